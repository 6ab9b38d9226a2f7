"""Supabase user tokens (JWT): verified with the project's HS256 secret, or with its JWKS (ES256/RS256).

The accepted algorithms come from configuration, never from the token's header, so `alg: none` and
algorithm-confusion tokens fail. The JWKS is fetched asynchronously with a short timeout, cached for at most ten
minutes, kept when a refresh fails, and refetched for an unknown `kid` at most once every 30 seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from jwt.types import Options

log = logging.getLogger("coursepipeline.auth")

JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
AUDIENCE = "authenticated"
REQUIRED_ROLE = "authenticated"
LOCAL_NAMESPACE = uuid.UUID("5b0f4c8e-6d0a-4a61-9d2c-6c0a3f1f2a10")


class InvalidToken(Exception):
    pass


def looks_like_jwt(value: str) -> bool:
    # API keys have no dots: most calls are answered before the pattern runs.
    return value.count(".") == 2 and JWT_SHAPE.match(value) is not None


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    email: str | None


class JWKSCache:
    MAX_AGE = 600.0
    UNKNOWN_KID_INTERVAL = 30.0

    def __init__(self, url: str, *, timeout: float = 3.0) -> None:
        self.url = url
        self.timeout = timeout
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._last_attempt = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        self._last_attempt = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                keyset = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.warning("JWKS fetch from %s failed (%s); keeping the last good key set", self.url, exc)
            return
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
        self._fetched_at = time.monotonic()

    async def key(self, kid: str | None) -> Any:
        if kid is None:
            raise InvalidToken("token has no key id")
        async with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at > self.MAX_AGE
            unknown = kid not in self._keys and now - self._last_attempt > self.UNKNOWN_KID_INTERVAL
            if stale or unknown or not self._fetched_at:
                await self._refresh()
        if kid not in self._keys:
            raise InvalidToken("unknown signing key")
        return self._keys[kid].key


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None,
        supabase_url: str | None,
        hs_algorithms: tuple[str, ...] = ("HS256",),
        jwks_algorithms: tuple[str, ...] = ("ES256", "RS256"),
    ) -> None:
        self.secret = secret
        self.issuer = f"{supabase_url}/auth/v1" if supabase_url else None
        self.jwks = JWKSCache(f"{self.issuer}/.well-known/jwks.json") if self.issuer else None
        self.hs_algorithms = list(hs_algorithms)
        self.jwks_algorithms = list(jwks_algorithms)

    async def verify(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        alg = header.get("alg")
        if alg in self.hs_algorithms and self.secret:
            key: Any = self.secret
            algorithms = self.hs_algorithms
        elif alg in self.jwks_algorithms and self.jwks is not None:
            key = await self.jwks.key(header.get("kid"))
            algorithms = self.jwks_algorithms
        else:
            raise InvalidToken("token algorithm not accepted")
        options: Options = {"require": ["exp", "sub", "aud"] + (["iss"] if self.issuer else [])}
        try:
            claims = jwt.decode(
                token, key, algorithms=algorithms, audience=AUDIENCE, issuer=self.issuer, options=options, leeway=5
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        if claims.get("role") != REQUIRED_ROLE:
            raise InvalidToken("token is not a signed-in user's (role must be 'authenticated')")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("token has no subject")
        email = claims.get("email")
        return TokenClaims(sub=sub, email=email if isinstance(email, str) else None)


def local_user_id(email: str) -> str:
    """A stable user id for locally minted tokens, so the same email is the same user across runs."""
    return str(uuid.uuid5(LOCAL_NAMESPACE, email.strip().lower()))


def mint_local_token(secret: str, email: str, *, hours: float = 24) -> str:
    """A Supabase-shaped access token for local use (`coursepipeline token`), signed with the configured secret."""
    now = int(time.time())
    claims = {
        "sub": local_user_id(email),
        "email": email,
        "aud": AUDIENCE,
        "role": REQUIRED_ROLE,
        "iat": now,
        "exp": now + int(hours * 3600),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
