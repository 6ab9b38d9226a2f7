"""Settings, read once from the environment (and an optional `.env` file) into one immutable object.

`create_app(settings)` takes this object, so tests build apps with their own settings instead of patching globals.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_RATE_LIMITS = "100/minute;5000/day"


class SettingsError(ValueError):
    """A configuration that is unsafe or malformed; raised at start-up, never mid-request."""


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default="sqlite:///coursepipeline.db", repr=False)  # may hold a password
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    supabase_url: str | None = None
    supabase_anon_key: str | None = None
    supabase_jwt_secret: str | None = field(default=None, repr=False)  # never printed
    # Algorithms are fixed by configuration, never taken from a token's header.
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwks_algorithms: tuple[str, ...] = ("ES256", "RS256")
    rate_limits: str = DEFAULT_RATE_LIMITS
    rate_limit_enabled: bool = True
    # How long a rate-limit call may wait on Redis before this process counts alone for a while: short, so a slow
    # Redis never slows the API down.
    redis_timeout_seconds: float = 0.25
    environment: str = "development"
    log_level: str = "info"
    log_format: str = "text"  # or "json": one JSON object a line, with the request id
    # How long a resolved API key may be trusted without re-reading it; bounds how late a revoke is seen elsewhere.
    api_key_cache_seconds: float = 5.0
    last_used_write_interval_seconds: float = 300.0
    max_body_bytes: int = 1024 * 1024
    # Database connections per process and pool (`db.engine.PoolSizes`): size them so that every process's
    # `driver + 2 * (writes + reads)` fits the server's (or PgBouncer's) connection limit.
    db_driver_pool_size: int = 10
    db_write_pool_size: int = 10
    db_read_pool_size: int = 5
    # The execution engine (`execution/`); off, plain Strawberry and SQLAlchemy answer every request the same.
    fast_execution: bool = True
    metrics_token: str | None = field(default=None, repr=False)  # who may read /metrics; unset: nobody (404)
    secret_key: str | None = field(default=None, repr=False)  # signs page cursors; see `Services.build`

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        env: dict[str, str] = {}
        if dotenv is not None:
            env.update(_read_dotenv(dotenv))
        env.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        settings = cls(
            database_url=get("DATABASE_URL") or cls.database_url,
            redis_url=get("REDIS_URL"),
            supabase_url=(get("SUPABASE_URL") or "").rstrip("/") or None,
            supabase_anon_key=get("SUPABASE_ANON_KEY"),
            supabase_jwt_secret=get("SUPABASE_JWT_SECRET"),
            rate_limits=get("COURSEPIPELINE_RATE_LIMITS") or DEFAULT_RATE_LIMITS,
            rate_limit_enabled=(get("COURSEPIPELINE_RATE_LIMIT_ENABLED") or "true").lower() != "false",
            redis_timeout_seconds=float(get("COURSEPIPELINE_REDIS_TIMEOUT_SECONDS") or cls.redis_timeout_seconds),
            environment=(get("COURSEPIPELINE_ENV") or "development").lower(),
            log_level=(get("COURSEPIPELINE_LOG_LEVEL") or "info").lower(),
            log_format=(get("COURSEPIPELINE_LOG_FORMAT") or "text").lower(),
            fast_execution=(get("COURSEPIPELINE_FAST_EXECUTION") or "true").lower() != "false",
            db_driver_pool_size=_positive(get, "COURSEPIPELINE_DB_DRIVER_POOL_SIZE", cls.db_driver_pool_size),
            db_write_pool_size=_positive(get, "COURSEPIPELINE_DB_WRITE_POOL_SIZE", cls.db_write_pool_size),
            db_read_pool_size=_positive(get, "COURSEPIPELINE_DB_READ_POOL_SIZE", cls.db_read_pool_size),
            metrics_token=get("COURSEPIPELINE_METRICS_TOKEN"),
            secret_key=get("COURSEPIPELINE_SECRET_KEY"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse configurations that would be unsafe in production."""
        if not self.is_production:
            return
        if not (self.supabase_jwt_secret or self.supabase_url):
            raise SettingsError("production needs SUPABASE_JWT_SECRET or SUPABASE_URL to verify user tokens")
        if self.supabase_jwt_secret and len(self.supabase_jwt_secret) < 32:
            raise SettingsError("SUPABASE_JWT_SECRET is too short for production (at least 32 characters)")
        if self.is_sqlite:
            raise SettingsError("production needs DATABASE_URL pointing at PostgreSQL")
        if not (self.secret_key or self.supabase_jwt_secret):
            raise SettingsError("production needs COURSEPIPELINE_SECRET_KEY (or SUPABASE_JWT_SECRET) to sign cursors")
        if self.secret_key and len(self.secret_key) < 32:
            raise SettingsError("COURSEPIPELINE_SECRET_KEY is too short for production (at least 32 characters)")


def _positive(get: Callable[[str], str | None], name: str, default: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def embedded_jwt_secret(settings: Settings) -> str:
    """The configured secret, or in embedded mode one made once at random and kept beside the database file."""
    if settings.supabase_jwt_secret:
        return settings.supabase_jwt_secret
    from db.engine import sqlite_path

    db_path = sqlite_path(settings.database_url)
    secret_file = Path(f"{db_path}.secret") if db_path else Path(".coursepipeline.secret")
    if secret_file.is_file():
        return secret_file.read_text().strip()
    secret = secrets.token_urlsafe(48)
    secret_file.touch(mode=0o600)
    secret_file.write_text(secret)
    return secret
