"""The API's routes are tried by resource, in the table's order within each."""

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route

from access.errors import APIError
from rest.endpoints import ENDPOINTS, routes
from rest.routing import HandlerApp, ResourceRoutes, resource


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


async def test_a_handler_app_answers_api_errors_and_leaves_other_errors_to_the_app():
    async def refuses(request: Request) -> Response:
        raise APIError(400, "limit must be between 1 and 1000", code="invalid_parameter")

    async def breaks(request: Request) -> Response:
        raise RuntimeError("a bug")

    async def unexpected(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"handled {exc}", status_code=500)

    app = Starlette(
        routes=[Route("/refuses", HandlerApp(refuses)), Route("/breaks", HandlerApp(breaks), methods=["GET"])],
        exception_handlers={Exception: unexpected},
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        refused = await client.get("/refuses")
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_parameter", "message": "limit must be between 1 and 1000"}
        broken = await client.get("/breaks")
        assert (broken.status_code, broken.text) == (500, "handled a bug")
        assert (await client.post("/breaks")).status_code == 405  # the route's methods still hold
