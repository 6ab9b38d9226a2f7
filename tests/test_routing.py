"""The API's routes are tried by resource, in the table's order within each."""

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route

from rest.endpoints import ENDPOINTS, routes
from rest.routing import ResourceRoutes, resource


def _answer(text: str):
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{text} {dict(request.path_params)}")

    return endpoint


def _table() -> ResourceRoutes:
    return ResourceRoutes(
        [
            Route("/api/learners/email/{email}", _answer("by-email"), methods=["GET"]),
            Route("/api/learners/{learner_id}/variables", _answer("variables"), methods=["GET"], name="variables"),
            Route("/api/learners/{learner_id}", _answer("learner"), methods=["DELETE"]),
            Route("/api/courses", _answer("courses"), methods=["GET"]),
        ]
    )


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=[_table(), Route("/api/docs", _answer("docs"))])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_overlapping_patterns_resolve_in_table_order():
    async with _client() as client:
        both = await client.get("/api/learners/email/variables")  # fits the first two patterns: the first wins
        assert both.text == "by-email {'email': 'variables'}"
        assert (await client.get("/api/learners/abc/variables")).text == "variables {'learner_id': 'abc'}"
        assert (await client.get("/api/courses")).text == "courses {}"


async def test_a_path_that_fits_with_another_method_is_a_405_and_an_unknown_one_falls_through():
    async with _client() as client:
        wrong = await client.get("/api/learners/abc")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE"
        # Not an API resource: the routes after the table still match.
        assert (await client.get("/api/docs")).text == "docs {}"
        assert (await client.get("/api/nothing/here")).status_code == 404


def test_names_still_build_urls():
    assert _table().url_path_for("variables", learner_id="abc") == "/api/learners/abc/variables"


def test_every_endpoint_is_reachable_under_its_resource():
    table = routes()
    for endpoint in ENDPOINTS:
        concrete = endpoint.path.replace("{", "").replace("}", "")
        scope = {"type": "http", "path": concrete, "method": endpoint.method, "root_path": ""}
        match, child = table.matches(scope)
        assert match is Match.FULL
        assert child["coursepipeline.route"].path == endpoint.path, endpoint.path
        assert resource(endpoint.path).startswith("/api/")
