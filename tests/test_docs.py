"""OpenAPI, Swagger UI and GraphiQL: described completely and served from installed packages, never a CDN."""

from __future__ import annotations

import re

import httpx
from starlette.testclient import TestClient

from access import keys
from app.demo import load_demo
from app.main import create_app
from app.services import Services
from db.queries import api_keys
from rest.endpoints import ENDPOINTS
from tests import factories
from tests.conftest import GQL, make_settings, make_tenant


async def test_openapi_describes_every_endpoint(client: httpx.AsyncClient):
    spec = (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    for endpoint in ENDPOINTS:
        operation = spec["paths"][endpoint.documented_path][endpoint.method.lower()]
        responses = operation["responses"]
        assert str(endpoint.status) in responses
        assert {"401", "429"} <= set(responses), endpoint.documented_path
        for param in re.findall(r"\{(\w+)\}", endpoint.documented_path):
            assert any(p["name"] == param and p["in"] == "path" for p in operation["parameters"])
        if endpoint.method == "POST" and endpoint.body:
            assert operation["requestBody"]["required"] is True
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HeaderApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["QueryApiKey"]["in"] == "query" and schemes["QueryApiKey"]["name"] == "apiKey"
    assert schemes["BearerApiKey"]["scheme"] == "bearer" and schemes["UserToken"]["bearerFormat"] == "JWT"
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', str(spec).replace("'", '"')))
    assert refs <= set(spec["components"]["schemas"])
    learners = spec["paths"]["/api/learners"]["get"]
    assert {p["name"] for p in learners["parameters"] if p["in"] == "query"} == {"limit", "offset", "cursor", "search"}


async def test_swagger_ui_is_served_offline(client: httpx.AsyncClient):
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000


async def test_graphiql_is_served_offline(client: httpx.AsyncClient):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "unpkg" not in page.text and "https://" not in page.text
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, (asset, response.text[:100])
        assert len(response.content) > 1000
        # What the entry imports is served too, from the same build.
        for imported in re.findall(r'from"\./([\w.-]+\.js)"', response.text)[:5]:
            assert (await client.get(f"/ui/assets/{imported}")).status_code == 200
    assert (await client.get("/ui/../pyproject.toml")).status_code == 404


async def test_every_operation_names_its_credential_and_headers(client: httpx.AsyncClient):
    spec = (await client.get("/api/openapi.json")).json()
    for endpoint in ENDPOINTS:
        operation = spec["paths"][endpoint.documented_path][endpoint.method.lower()]
        if endpoint.user_only:
            assert operation["security"] == [{"UserToken": []}]
            assert "user's token" in operation["description"] and "API key gets 403" in operation["description"]
        else:
            assert {"HeaderApiKey": []} in operation["security"] and "an API key" in operation["description"]
        assert any(p["name"] == "X-Organization-Id" and p["in"] == "header" for p in operation["parameters"])
        success = operation["responses"][str(endpoint.status)]
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(success["headers"])
        assert "Retry-After" in operation["responses"]["429"]["headers"]


async def test_examples_from_the_demo_make_every_read_and_the_set_succeed_unedited(services: Services):
    async with services.db.write() as conn:
        org_id = await load_demo(conn, learners_count=40)
        new = keys.generate()
        await api_keys.insert_key(conn, org_id, name="docs", prefix=new.prefix, key_hash=new.hash, created_by=None,
                                  expires_at=None)  # fmt: skip
    # TestClient runs the app's lifespan, which reads the examples, in a loop of its own.
    with TestClient(create_app(make_settings())) as client:
        spec = client.get("/api/openapi.json").json()
        tried = 0
        for endpoint in ENDPOINTS:
            operation = spec["paths"][endpoint.documented_path][endpoint.method.lower()]
            if endpoint.user_only or endpoint.method not in ("GET", "POST") or "{email}" in endpoint.documented_path:
                continue
            if endpoint.method == "POST" and endpoint.documented_path != "/api/variables/set":
                continue
            path = endpoint.documented_path
            for p in operation["parameters"]:
                if p["in"] == "path":
                    path = path.replace("{" + p["name"] + "}", p["example"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
            answer = client.request(endpoint.method, path, json=body, headers={"X-API-Key": new.secret})
            assert answer.status_code == endpoint.status, (path, answer.text[:200])
            tried += 1
        assert tried >= 20


async def test_examples_come_only_from_the_demo_quickstart_loaded_not_from_an_organization_named_like_it(
    services: Services,
):
    lookalike = await make_tenant(services, "Demo Academy")  # a customer's organization that shares the demo's name
    app = create_app(services.settings, services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        gql = GQL(client, lookalike.key_headers)
        course = await factories.course(gql)
        number = await factories.variable(gql, course["id"])
        learner = await factories.learner(gql, email="private@example.com", externalId="lms-private")
        await factories.set_value(gql, number["id"], learner["id"], 3)
    with TestClient(create_app(make_settings())) as client:
        text = client.get("/api/openapi.json").text
    for private in (str(lookalike.org_id), course["id"], learner["id"], "private@example.com", "lms-private"):
        assert private not in text
