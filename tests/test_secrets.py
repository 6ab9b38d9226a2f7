"""Secrets are shown once and kept nowhere in clear: not in the stored answers of idempotent requests, not in a
cache on the way. Every page and answer carries the headers that keep it out of frames and sniffers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from app.services import Services
from db.idempotency import keys as idempotency_keys
from tests.conftest import Tenant


async def _stored_answers(services: Services) -> list[str]:
    for _ in range(100):  # the answer is stored just after the response
        async with services.db.read() as conn:
            rows = (await conn.execute(select(idempotency_keys.c.status, idempotency_keys.c.response))).all()
        if rows and all(status is not None for status, _ in rows):
            return [response for _, response in rows]
        await asyncio.sleep(0.02)
    raise AssertionError("no answer stored")


async def test_a_replayed_key_creation_and_roll_answer_without_the_secret_which_is_never_stored(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
):
    headers = {**tenant.user_headers, "Idempotency-Key": "new-key-1"}
    created = await client.post("/api/api-keys", json={"name": "ci"}, headers=headers)
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    secret = created.json()["key"]
    assert secret.startswith("cp_") and "secret_withheld" not in created.json()
    stored = await _stored_answers(services)
    assert all(secret not in answer and secret[3:20] not in answer for answer in stored)

    replay = await client.post("/api/api-keys", json={"name": "ci"}, headers=headers)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {**created.json(), "key": None, "secret_withheld": True}
    assert (await client.get("/api/courses", headers={"X-API-Key": secret})).status_code == 200

    roll_headers = {**tenant.user_headers, "Idempotency-Key": "roll-1"}
    rolled = await client.post(f"/api/api-keys/{created.json()['id']}/roll", json={}, headers=roll_headers)
    assert rolled.status_code == 201 and rolled.headers["cache-control"] == "no-store"
    new_secret = rolled.json()["key"]
    again = await client.post(f"/api/api-keys/{created.json()['id']}/roll", json={}, headers=roll_headers)
    assert again.status_code == 201 and again.json()["key"] is None and again.json()["secret_withheld"] is True
    assert again.json()["id"] == rolled.json()["id"]
    stored = await _stored_answers(services)
    assert all(new_secret not in answer and new_secret[3:20] not in answer for answer in stored)


async def test_a_replayed_invitation_answers_without_its_sign_in_link(
    client: httpx.AsyncClient, tenant: Tenant, services: Services
):
    headers = {**tenant.user_headers, "Idempotency-Key": "invite-1"}
    body = {"email": "new.person@example.com", "role": "admin"}
    invited = await client.post("/api/invitations", json=body, headers=headers)
    assert invited.status_code == 201 and invited.headers["cache-control"] == "no-store"
    link = invited.json()["link"]
    code = link.partition("code=")[2]
    assert code
    assert all(code not in answer for answer in await _stored_answers(services))
    replay = await client.post("/api/invitations", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == {**invited.json(), "link": None, "secret_withheld": True}


@pytest.mark.parametrize("path", ["/", "/login", "/learners", "/api/docs", "/api/openapi.json", "/health"])
async def test_every_page_refuses_framing_sniffing_and_referrers(client: httpx.AsyncClient, path: str):
    answer = await client.get(path, headers={"Accept": "text/html"})
    assert answer.status_code == 200
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


async def test_graphiql_and_every_api_answer_carry_them_and_api_answers_are_not_stored_on_the_way(
    client: httpx.AsyncClient, tenant: Tenant
):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    for answer in (
        await client.get("/api/courses", headers=tenant.key_headers),
        await client.get("/api/courses"),  # a 401
        await client.post("/graphql", json={"query": "{ courses { data { id } } }"}, headers=tenant.key_headers),
    ):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
