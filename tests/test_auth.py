"""Authentication: API keys in three transports, their life cycle, user tokens, organizations."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, text

from access import keys
from access.tokens import local_user_id
from app.logging import RedactApiKeys
from app.services import Services
from db.queries.api_keys import api_keys
from tests.conftest import TEST_SECRET, Tenant, app_client, make_tenant


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": local_user_id("someone@example.com"), "email": "someone@example.com", "aud": "authenticated",
              "role": "authenticated", "iat": now, "exp": now + 600}  # fmt: skip
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs(claims: dict[str, Any], secret: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


async def test_a_key_works_in_all_three_transports_identically(client, tenant: Tenant):
    responses = [
        await client.get("/api/courses", headers={"Authorization": f"Bearer {tenant.key}"}),
        await client.get("/api/courses", headers={"X-API-Key": tenant.key}),
        await client.get(f"/api/courses?apiKey={tenant.key}"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len({r.text for r in responses}) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "cp_short"},
        {"X-API-Key": "sk_" + "a" * 49},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"X-API-Key": keys.generate().secret},  # well formed, unknown
    ],
)
async def test_missing_malformed_or_unknown_credentials_are_401(client, tenant: Tenant, headers):
    for path in ("/api/courses", "/graphql"):
        body = {"query": "{ courses { data { id } } }"} if path == "/graphql" else None
        response = await client.request("POST" if body else "GET", path, headers=headers, json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"] == "unauthorized"


async def test_a_key_with_a_bad_checksum_is_refused_without_a_lookup(client, services: Services, tenant: Tenant):
    tampered = tenant.key[:-1] + ("A" if tenant.key[-1] != "A" else "B")
    with services.db.recording() as statements:
        response = await client.get("/api/courses", headers={"X-API-Key": tampered})
    assert response.status_code == 401
    assert statements == []


async def test_key_management_needs_a_user_and_shows_the_secret_once(client, services: Services, tenant: Tenant):
    forbidden = await client.post("/api/api-keys", json={"name": "x"}, headers=tenant.key_headers)
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"
    assert (await client.get("/api/api-keys", headers=tenant.key_headers)).status_code == 403

    created = await client.post("/api/api-keys", json={"name": "LMS sync", "expires_at": "2099-01-01T00:00:00Z"},
                                headers=tenant.user_headers)  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert secret.startswith("cp_") and keys.well_formed(secret)
    assert body["prefix"] == secret[:11] and body["expires_at"] == "2099-01-01T00:00:00Z"

    listed = await client.get("/api/api-keys", headers=tenant.user_headers)
    assert listed.status_code == 200
    entries = listed.json()["data"]
    assert {e["name"] for e in entries} == {"test", "LMS sync"}
    assert secret not in listed.text and keys.hash_key(secret) not in listed.text
    fields = {"id", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at", "scope", "course_ids"}
    assert all(set(e) == fields for e in entries)

    async with services.db.read() as conn:
        stored = (await conn.execute(select(api_keys).where(api_keys.c.id == uuid.UUID(body["id"])))).mappings().one()
        dump = " ".join(str(v) for v in stored.values())
    assert secret not in dump and stored["key_hash"] == keys.hash_key(secret)

    assert (await client.get("/api/courses", headers={"X-API-Key": secret})).status_code == 200
    revoked = await client.post(f"/api/api-keys/{body['id']}/revoke", headers=tenant.user_headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await client.get("/api/courses", headers={"X-API-Key": secret})
    assert after.status_code == 401 and "revoked" in after.json()["message"]
    missing = await client.post(f"/api/api-keys/{uuid.uuid4()}/revoke", headers=tenant.user_headers)
    assert missing.status_code == 404
    assert (await client.post("/api/api-keys/nope/revoke", headers=tenant.user_headers)).status_code == 400


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": 5}, {"name": "x", "expires_at": "2001-01-01T00:00:00Z"},
     {"name": "x", "expires_at": "tomorrow"}],
)  # fmt: skip
async def test_bad_key_requests_are_400_and_create_nothing(client, tenant: Tenant, body):
    response = await client.post("/api/api-keys", json=body, headers=tenant.user_headers)
    assert response.status_code == 400, response.text
    listed = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    assert [e["name"] for e in listed] == ["test"]


async def test_expired_keys_are_refused(client, services: Services, tenant: Tenant):
    created = (await client.post("/api/api-keys", json={"name": "short"}, headers=tenant.user_headers)).json()
    async with services.db.write() as conn:
        await conn.execute(text("UPDATE api_keys SET expires_at = :t WHERE id = :id"),
                           {"t": "2000-01-01 00:00:00", "id": uuid.UUID(created["id"]).hex if services.db.is_sqlite
                            else created["id"]})  # fmt: skip
    services.authenticator.forget_key(uuid.UUID(created["id"]))
    response = await client.get("/api/courses", headers={"X-API-Key": created["key"]})
    assert response.status_code == 401 and "expired" in response.json()["message"]


async def test_graphql_key_management_mirrors_rest(client, tenant: Tenant):
    query = 'mutation { createApiKey(input: {name: "gql"}) { __typename ... on ApiKeyCreated { id key status } } }'
    as_key = await client.post("/graphql", json={"query": query}, headers=tenant.key_headers)
    assert as_key.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    as_user = (await client.post("/graphql", json={"query": query}, headers=tenant.user_headers)).json()
    created = as_user["data"]["createApiKey"]
    assert created["status"] == "active" and created["key"].startswith("cp_")
    revoke = f'mutation {{ revokeApiKey(id: "{created["id"]}") {{ ... on ApiKey {{ status }} }} }}'
    revoked = (await client.post("/graphql", json={"query": revoke}, headers=tenant.user_headers)).json()
    assert revoked["data"]["revokeApiKey"]["status"] == "revoked"
    listed = (await client.post("/graphql", json={"query": "{ apiKeys { name status } }"},
                                headers=tenant.user_headers)).json()  # fmt: skip
    assert {k["name"]: k["status"] for k in listed["data"]["apiKeys"]} == {"test": "active", "gql": "revoked"}


async def test_last_used_is_recorded_without_a_write_per_request(client, services: Services, tenant: Tenant):
    with services.db.recording() as statements:
        for _ in range(5):
            assert (await client.get("/api/courses", headers=tenant.key_headers)).status_code == 200
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE API_KEYS")]
    assert len(updates) == 1
    listed = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    assert listed[0]["last_used_at"] is not None


async def test_a_revoke_reaches_other_instances_within_the_cache_time(tenant: Tenant):
    async with app_client(api_key_cache_seconds=0.3) as first, app_client(api_key_cache_seconds=0.3) as second:
        clients = [first[0], second[0]]
        assert (await clients[1].get("/api/courses", headers=tenant.key_headers)).status_code == 200
        revoked = await clients[0].post(f"/api/api-keys/{tenant.key_id}/revoke", headers=tenant.user_headers)
        assert revoked.status_code == 200
        assert (await clients[0].get("/api/courses", headers=tenant.key_headers)).status_code == 401
        await asyncio.sleep(0.4)
        assert (await clients[1].get("/api/courses", headers=tenant.key_headers)).status_code == 401


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("alg none", jwt.encode(_claims(), None, algorithm="none")),
        ("wrong signature", _hs(_claims(), "another-secret-that-is-long-enough-0123456789")),
        ("wrong audience", _hs(_claims(aud="public"))),
        ("expired", _hs(_claims(exp=int(time.time()) - 3600))),
        ("no subject", _hs(_claims(sub=None))),
        ("anon token", _hs(_claims(role="anon", sub=None))),
        ("service_role token", _hs(_claims(role="service_role"))),
        ("HS384 not configured", _hs(_claims(), alg="HS384")),
    ],
)  # fmt: skip
async def test_bad_user_tokens_are_401(client, name, token):
    response = await client.get("/api/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, name
    assert response.json()["error"] == "unauthorized"


async def test_organizations_membership_and_switching(client, services: Services, tenant: Tenant):
    newcomer = {"Authorization": f"Bearer {_hs(_claims())}"}
    no_org = await client.get("/api/courses", headers=newcomer)
    assert no_org.status_code == 403
    create = 'mutation { createOrganization(name: "Newco") { ... on Organization { id name role } } }'
    created = (await client.post("/graphql", headers=newcomer, json={"query": create})).json()
    org = created["data"]["createOrganization"]
    assert org["role"] == "owner"
    assert (await client.get("/api/courses", headers=newcomer)).status_code == 200

    second = (await client.post("/graphql", headers=newcomer, json={
        "query": 'mutation { createOrganization(name: "Second") { ... on Organization { id } } }'})).json()  # fmt: skip
    second_id = second["data"]["createOrganization"]["id"]
    mine = (await client.post("/graphql", headers={**newcomer, "X-Organization-Id": second_id},
                              json={"query": "{ organizations { id name } }"})).json()  # fmt: skip
    assert {o["name"] for o in mine["data"]["organizations"]} == {"Newco", "Second"}

    key = (await client.post("/api/api-keys", json={"name": "k"},
                             headers={**newcomer, "X-Organization-Id": second_id})).json()  # fmt: skip
    listed_second = (await client.get("/api/api-keys", headers={**newcomer, "X-Organization-Id": second_id})).json()
    listed_first = (await client.get("/api/api-keys", headers={**newcomer, "X-Organization-Id": org["id"]})).json()
    assert [k["id"] for k in listed_second["data"]] == [key["id"]]
    assert listed_first["data"] == []

    foreign = await client.get("/api/courses", headers={**newcomer, "X-Organization-Id": str(tenant.org_id)})
    assert foreign.status_code == 403
    malformed = await client.get("/api/courses", headers={**newcomer, "X-Organization-Id": "x"})
    assert malformed.status_code == 400
    api_key_cannot = await client.post("/graphql", headers=tenant.key_headers, json={
        "query": 'mutation { createOrganization(name: "x") { __typename } }'})  # fmt: skip
    assert api_key_cannot.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_public_paths_need_no_credentials(client):
    for path in ("/health", "/api/docs", "/api/openapi.json"):
        assert (await client.get(path)).status_code == 200, path
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_api_keys_in_query_strings_are_redacted_from_logs(caplog):
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/api/courses?limit=5&apiKey=cp_secret123&x=1", "1.1", 200),
                               None)  # fmt: skip
    RedactApiKeys().filter(record)
    line = record.getMessage()
    assert "cp_secret123" not in line and "apiKey=[REDACTED]&x=1" in line
    link = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "GET %s", ("/login/link?code=abc123",), None)
    RedactApiKeys().filter(link)
    assert link.getMessage() == "GET /login/link?code=[REDACTED]"


# --- JWKS: a local key server, ES256 tokens ---


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, Any, dict[str, int]]]:
    private = ec.generate_private_key(ec.SECP256R1())
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    public_jwk.update({"kid": "key-1", "alg": "ES256", "use": "sig"})
    hits = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits["count"] += 1
            body = json.dumps({"keys": [public_jwk]}).encode()
            self.send_response(200 if self.path == "/auth/v1/.well-known/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", private, hits
    server.shutdown()


async def test_jwks_verified_tokens(jwks_server, services: Services):
    url, private, hits = jwks_server
    tenant = await make_tenant(services, "JWKS org", "jwks@example.com")
    issuer = f"{url}/auth/v1"
    claims = _claims(sub=tenant.user_id, iss=issuer)

    def es(c: dict[str, Any], kid: str = "key-1", key: Any = private) -> str:
        return jwt.encode(c, key, algorithm="ES256", headers={"kid": kid})

    async with app_client(supabase_url=url, supabase_jwt_secret=None) as (c, own):
        ok = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {es(claims)}"})
        assert ok.status_code == 200, ok.text
        again = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {es(claims)}"})
        assert again.status_code == 200 and hits["count"] == 1  # cached
        wrong_iss = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {es({**claims, 'iss': 'x'})}"})
        assert wrong_iss.status_code == 401
        other_key = ec.generate_private_key(ec.SECP256R1())
        forged = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {es(claims, key=other_key)}"})
        assert forged.status_code == 401
        jwks = own.authenticator.verifier.jwks
        jwks._last_attempt -= 31  # the last fetch was over 30 s ago: an unknown kid may trigger one refetch
        unknown_kid = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {es(claims, 'key-2')}"})
        assert unknown_kid.status_code == 401
        unknown_again = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {es(claims, 'key-3')}"})
        assert unknown_again.status_code == 401
        assert hits["count"] == 2  # one refetch for the first unknown kid, none for the second within 30 s
        hs = await c.get("/api/api-keys", headers={"Authorization": f"Bearer {_hs(claims)}"})
        assert hs.status_code == 401  # no shared secret configured: HS256 is not accepted


async def test_jwks_keeps_the_last_good_keys_when_a_refresh_fails(jwks_server):
    from access.tokens import JWKSCache

    url, _private, _hits = jwks_server
    cache = JWKSCache(f"{url}/auth/v1/.well-known/jwks.json", timeout=0.5)
    assert await cache.key("key-1") is not None
    cache.url = "http://127.0.0.1:1/unreachable"
    cache._fetched_at -= JWKSCache.MAX_AGE + 1  # stale: the next lookup refreshes, and the refresh fails
    assert await cache.key("key-1") is not None
