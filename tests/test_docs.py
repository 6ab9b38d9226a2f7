"""OpenAPI, Swagger UI and GraphiQL: described completely and served from installed packages, never a CDN."""

from __future__ import annotations

import re

import httpx

from rest.endpoints import ENDPOINTS


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
    assert {p["name"] for p in learners["parameters"]} == {"limit", "offset", "cursor", "search"}


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
    assert len(assets) == 4
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, (asset, response.text[:100])
        assert len(response.content) > 1000
    assert (await client.get("/static/graphiql/../../pyproject.toml")).status_code == 404
