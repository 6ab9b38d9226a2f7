"""Test set-up: the real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), migrated once per run;
every test starts from empty tables. No database is mocked."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from access import keys
from access.tokens import local_user_id, mint_local_token
from app.main import create_app
from app.services import Services
from app.settings import Settings
from db.engine import normalize_url
from db.migrate import upgrade
from db.queries import api_keys, organizations

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
TABLES = [
    "api_key_usage",
    "audit_log",
    "invitations",
    "idempotency_keys",
    "login_links",
    "current_values",
    "variable_values",
    "enrollments",
    "variables",
    "course_runs",
    "courses",
    "learners",
    "api_keys",
    "organization_members",
    "organizations",
]


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    folder = Path(tempfile.mkdtemp(prefix="coursepipeline-tests-"))
    return f"sqlite:///{folder / 'test.db'}"


DATABASE_URL = _database_url()
IS_POSTGRES = DATABASE_URL.startswith("postgres")
# The whole suite runs with the execution engine on and, in CI, again with it off: the same tests, the same answers.
FAST_EXECUTION = os.environ.get("COURSEPIPELINE_FAST_EXECUTION", "true").lower() != "false"


def reset_database(url: str) -> None:
    """Drops everything, then applies the migrations: the schema under test is the migrated one."""
    if url.startswith("postgres"):
        engine = create_engine(normalize_url(url, asynchronous=False))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def pytest_sessionstart(session: pytest.Session) -> None:
    reset_database(DATABASE_URL)


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": DATABASE_URL,
        "supabase_jwt_secret": TEST_SECRET,
        "rate_limits": "100000/minute;1000000/day",
        "fast_execution": FAST_EXECUTION,
    }
    base.update(overrides)
    return Settings(**base)


@asynccontextmanager
async def app_client(**overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """A client for an app of its own, built with `make_settings(**overrides)`, disposed of afterwards."""
    settings = make_settings(**overrides)
    services = Services.build(settings)
    app = create_app(settings, services)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, services
    finally:
        await services.db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
async def services() -> AsyncIterator[Services]:
    built = Services.build(make_settings())
    yield built
    await built.db.dispose()


@pytest.fixture(scope="session")
async def fast_services() -> AsyncIterator[Services]:
    """With the engine on in either mode of the run: for the tests of the engine itself."""
    built = Services.build(make_settings(fast_execution=True))
    assert built.graphql.fast
    yield built
    await built.db.dispose()


@pytest.fixture
async def fast_client(fast_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(fast_services.settings, fast_services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture(autouse=True)
async def clean_tables(services: Services) -> AsyncIterator[None]:
    yield
    async with services.db.write() as conn:
        if IS_POSTGRES:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
        else:
            for table in TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@dataclass
class Tenant:
    """An organization with an owner (user token) and an API key."""

    org_id: uuid.UUID
    email: str
    user_id: str
    token: str
    key: str
    key_id: uuid.UUID

    @property
    def key_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    @property
    def user_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_tenant(services: Services, name: str = "Acme", email: str | None = None) -> Tenant:
    email = email or f"owner-{uuid.uuid4().hex[:8]}@example.com"
    user_id = local_user_id(email)
    new = keys.generate()
    async with services.db.write() as conn:
        org = await organizations.create_organization(conn, name, owner_user_id=user_id, owner_email=email)
        row = await api_keys.insert_key(
            conn, org["id"], name="test", prefix=new.prefix, key_hash=new.hash, created_by=user_id, expires_at=None
        )
    token = mint_local_token(TEST_SECRET, email)
    return Tenant(org["id"], email, user_id, token, new.secret, row["id"])


@pytest.fixture
async def tenant(services: Services) -> Tenant:
    return await make_tenant(services, "Acme")


@pytest.fixture
async def other_tenant(services: Services) -> Tenant:
    return await make_tenant(services, "Globex")


class GQL:
    """A small GraphQL client over the test client."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture
def gql(client: httpx.AsyncClient, tenant: Tenant) -> GQL:
    return GQL(client, tenant.key_headers)
