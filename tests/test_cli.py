"""The `coursepipeline` command and migrations, as a newcomer and an operator use them."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, inspect, text

from app.cli import main
from app.main import create_app
from app.settings import Settings
from db.engine import normalize_url
from db.migrate import downgrade, upgrade
from tests.conftest import DATABASE_URL, IS_POSTGRES

KEY = re.compile(r"cp_[0-9A-Za-z]{49}")


def calls(url: str, *requests: tuple[str, str, dict[str, str], Any]) -> list[httpx.Response]:
    """Runs requests against a fresh app on `url` (these tests are synchronous: the CLI runs its own loops)."""

    async def run() -> list[httpx.Response]:
        app = create_app(Settings(database_url=url))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            out = [await client.request(m, p, headers=h, json=j) for m, p, h, j in requests]
        await app.state.services.db.dispose()
        return out

    return asyncio.run(run())


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cp.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("SUPABASE_URL", "SUPABASE_JWT_SECRET", "REDIS_URL", "COURSEPIPELINE_ENV"):
        monkeypatch.delenv(name, raising=False)
    return url


def test_quickstart_loads_the_demo_once_and_prints_a_first_call_that_works(embedded: str, capsys):
    main(["quickstart"])
    first = capsys.readouterr().out
    assert "Loaded the demo organization" in first
    assert "Revoked the quickstart key" not in first
    key = KEY.search(first).group(0)  # type: ignore[union-attr]
    assert f'curl -s -H "X-API-Key: {key}" http://127.0.0.1:8000/api/courses' in first

    h = {"X-API-Key": key}
    courses, learners, variables = calls(
        embedded, ("GET", "/api/courses", h, None), ("GET", "/api/learners?limit=1000", h, None),
        ("GET", "/api/variables", h, None),
    )  # fmt: skip
    assert courses.status_code == 200 and len(courses.json()["data"]) == 5
    assert len(learners.json()["data"]) == 200
    assert {v["type"] for v in variables.json()["data"]} == {"text", "number", "boolean", "json"}
    quiz = next(v for v in variables.json()["data"] if v["name"] == "quiz_score")
    (agg,) = calls(embedded, ("GET", f"/api/variables/{quiz['id']}/aggregate", h, None))
    assert agg.json()["values_recorded"] > 100 and 40 < agg.json()["numeric"]["mean"] < 95

    main(["quickstart"])
    second = capsys.readouterr().out
    assert "Loaded the demo" not in second
    assert f"Revoked the quickstart key an earlier `make run` printed ({key[:11]}" in second
    new_key = KEY.search(second).group(0)  # type: ignore[union-attr]
    token = re.search(r"export TOKEN=(eyJ[\w.-]+)\n", second).group(1)  # type: ignore[union-attr]
    fresh, old, keys = calls(
        embedded, ("GET", "/api/courses", {"X-API-Key": new_key}, None), ("GET", "/api/courses", h, None),
        ("GET", "/api/api-keys", {"Authorization": f"Bearer {token}"}, None),
    )  # fmt: skip
    assert len(fresh.json()["data"]) == 5
    assert old.status_code == 401  # the previous quickstart key is replaced and revoked
    assert keys.status_code == 200


def test_token_uses_a_random_secret_kept_beside_the_database(embedded: str, tmp_path: Path, capsys):
    main(["migrate"])
    main(["token", "--email", "me@example.com"])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    secret_file = tmp_path / "cp.db.secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text()
    assert len(secret) >= 48
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="authenticated")
    assert claims["email"] == "me@example.com" and claims["role"] == "authenticated"
    main(["token", "--email", "me@example.com"])
    again = capsys.readouterr().out.strip().splitlines()[-1]
    assert jwt.decode(again, secret, algorithms=["HS256"], audience="authenticated")["sub"] == claims["sub"]


def test_create_org_gives_an_owner_and_a_working_key(embedded: str, capsys):
    main(["migrate"])
    main(["create-org", "--name", "Initech", "--owner-email", "boss@initech.example"])
    out = capsys.readouterr().out
    key = KEY.search(out).group(0)  # type: ignore[union-attr]
    (response,) = calls(embedded, ("POST", "/graphql", {"X-API-Key": key}, {"query": "{ organizations { name } }"}))
    assert response.json()["data"]["organizations"] == [{"name": "Initech"}]


def test_prune_deletes_only_expired_idempotency_keys(embedded: str, capsys):
    main(["migrate"])
    main(["create-org", "--name", "Initech", "--owner-email", "boss@initech.example"])
    key = KEY.search(capsys.readouterr().out).group(0)  # type: ignore[union-attr]
    post = ("POST", "/api/pipelines", {"X-API-Key": key, "Idempotency-Key": "k1"}, {"name": "P"})
    assert calls(embedded, post)[0].status_code == 201
    engine = create_engine(normalize_url(embedded, asynchronous=False))
    main(["prune"])
    assert capsys.readouterr().out.startswith("0 expired")
    with engine.begin() as conn:
        conn.execute(text("UPDATE idempotency_keys SET expires_at = '2000-01-01 00:00:00.000000'"))
    main(["prune"])
    assert capsys.readouterr().out.startswith("1 expired")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one() == 0
    engine.dispose()


def test_production_refuses_unsafe_settings():
    from app.settings import SettingsError

    with pytest.raises(SettingsError):
        Settings.from_env({"COURSEPIPELINE_ENV": "production"}, dotenv=None)
    with pytest.raises(SettingsError):
        Settings.from_env({"COURSEPIPELINE_ENV": "production", "SUPABASE_JWT_SECRET": "short",
                           "DATABASE_URL": "postgresql://db/x"}, dotenv=None)  # fmt: skip
    supabase_only = {"COURSEPIPELINE_ENV": "production", "SUPABASE_URL": "https://x.supabase.co/",
                     "DATABASE_URL": "postgresql://db/x"}  # fmt: skip
    with pytest.raises(SettingsError, match="COURSEPIPELINE_SECRET_KEY"):  # cursors need a secret every instance shares
        Settings.from_env(supabase_only, dotenv=None)
    with pytest.raises(SettingsError, match="too short"):
        Settings.from_env({**supabase_only, "COURSEPIPELINE_SECRET_KEY": "short"}, dotenv=None)
    ok = Settings.from_env({**supabase_only, "COURSEPIPELINE_SECRET_KEY": "k" * 32}, dotenv=None)
    assert ok.supabase_url == "https://x.supabase.co"


def test_database_urls_as_users_write_them():
    assert normalize_url("postgresql://u:p@h:5432/db", asynchronous=True).drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db", asynchronous=False).drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db", asynchronous=True).drivername == "sqlite+aiosqlite"
    with pytest.raises(ValueError):
        normalize_url("mysql://u@h/db", asynchronous=True)


def _scratch_url(tmp_path: Path) -> str:
    if not IS_POSTGRES:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    admin = create_engine(normalize_url(DATABASE_URL, asynchronous=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS coursepipeline_migrations"))
        conn.execute(text("CREATE DATABASE coursepipeline_migrations"))
    admin.dispose()
    return DATABASE_URL.rsplit("/", 1)[0] + "/coursepipeline_migrations"


def test_migrations_go_up_down_and_up_again(tmp_path: Path):
    url = _scratch_url(tmp_path)
    engine = create_engine(normalize_url(url, asynchronous=False))
    upgrade(url)
    tables = set(inspect(engine).get_table_names())
    assert {"courses", "learners", "variables", "variable_values", "current_values", "api_keys"} <= tables
    indexes = {i["name"] for i in inspect(engine).get_indexes("variable_values")}
    assert {"ix_values_variable_page", "ix_values_learner_page", "ix_values_org_time"} <= indexes
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert "courses" in inspect(engine).get_table_names()
    engine.dispose()


async def test_pool_sizes_are_settings_and_bound_the_connections_a_process_holds():
    from app.services import Services
    from app.settings import SettingsError
    from tests.conftest import DATABASE_URL, IS_POSTGRES

    env = {"DATABASE_URL": DATABASE_URL, "COURSEPIPELINE_DB_DRIVER_POOL_SIZE": "3",
           "COURSEPIPELINE_DB_WRITE_POOL_SIZE": "2", "COURSEPIPELINE_DB_READ_POOL_SIZE": "1"}  # fmt: skip
    settings = Settings.from_env(env, dotenv=None)
    assert (settings.db_driver_pool_size, settings.db_write_pool_size, settings.db_read_pool_size) == (3, 2, 1)
    with pytest.raises(SettingsError, match="COURSEPIPELINE_DB_READ_POOL_SIZE"):
        Settings.from_env({**env, "COURSEPIPELINE_DB_READ_POOL_SIZE": "0"}, dotenv=None)
    services = Services.build(settings)
    try:
        if IS_POSTGRES:  # SQLite's file needs no pool of connections
            db = services.db
            sizes = [(p.size(), p._max_overflow) for p in (db.engine.pool, db.read_engine.pool)]  # type: ignore[attr-defined]
            assert sizes == [(2, 2), (1, 1)]
            if db._pool is not None:
                assert db._pool.max_size == 3
    finally:
        await services.db.dispose()
