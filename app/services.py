"""What one app instance holds for its lifetime, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.authenticator import Authenticator
from app.auth.tokens import TokenVerifier
from app.ratelimit import RateLimits
from app.settings import Settings, embedded_jwt_secret
from db.engine import Database
from schema import Schema


@dataclass
class Services:
    settings: Settings
    db: Database
    schema: Schema
    authenticator: Authenticator
    rate_limits: RateLimits | None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        from schema import schema

        db = Database.from_url(settings.database_url)
        secret = settings.supabase_jwt_secret
        if secret is None and settings.supabase_url is None:
            secret = embedded_jwt_secret(settings)
        verifier = TokenVerifier(
            secret=secret,
            supabase_url=settings.supabase_url,
            hs_algorithms=settings.jwt_algorithms,
            jwks_algorithms=settings.jwks_algorithms,
        )
        authenticator = Authenticator(
            db,
            verifier,
            cache_seconds=settings.api_key_cache_seconds,
            last_used_interval=settings.last_used_write_interval_seconds,
        )
        limits = RateLimits(settings.rate_limits, settings.redis_url) if settings.rate_limit_enabled else None
        return cls(settings=settings, db=db, schema=schema, authenticator=authenticator, rate_limits=limits)
