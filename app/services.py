"""What one app instance holds for its lifetime, built once from the settings: the composition root's parts."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from access.authenticator import Authenticator
from access.ratelimit import RateLimits
from access.tokens import TokenVerifier
from access.usage import UsageCounter
from app.settings import Settings, embedded_jwt_secret
from db.engine import Database, PoolSizes
from execution import compat
from schema.runtime import GraphQLRuntime


@dataclass
class Services:
    settings: Settings
    db: Database
    graphql: GraphQLRuntime
    authenticator: Authenticator
    rate_limits: RateLimits | None
    usage: UsageCounter

    @property
    def schema(self) -> strawberry.Schema:
        return self.graphql.schema

    @classmethod
    def build(cls, settings: Settings) -> Services:
        fast = settings.fast_execution and compat.supported()
        pools = PoolSizes(settings.db_driver_pool_size, settings.db_write_pool_size, settings.db_read_pool_size)
        db = Database.from_url(settings.database_url, fast=fast, pools=pools)
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
        limits = (
            RateLimits(settings.rate_limits, settings.redis_url, redis_timeout=settings.redis_timeout_seconds)
            if settings.rate_limit_enabled
            else None
        )
        # Cursors are signed with the operator's secret key, else the token secret (several instances must share one).
        cursor_secret = settings.secret_key or secret or embedded_jwt_secret(settings)
        usage = UsageCounter(db)
        graphql = GraphQLRuntime.build(
            db,
            authenticator.forget_key,
            fast=fast,
            secret=cursor_secret,
            sign_in_links=settings.supabase_url is None,
            flush_usage=usage.flush,
        )
        return cls(
            settings=settings,
            db=db,
            graphql=graphql,
            authenticator=authenticator,
            rate_limits=limits,
            usage=usage,
        )
