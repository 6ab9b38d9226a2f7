"""From request credentials to a principal: API keys (three transports) and Supabase user tokens."""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from access import keys
from access.errors import APIError
from access.principal import ApiKeyPrincipal, Principal, UserPrincipal
from access.tokens import InvalidToken, TokenVerifier, looks_like_jwt
from db.engine import Database
from db.queries import api_keys, organizations
from db.types import utcnow

log = logging.getLogger("coursepipeline.auth")


@dataclass(frozen=True, slots=True)
class _CachedKey:
    principal: ApiKeyPrincipal | None  # None: no such key (cached briefly too, so floods of bad keys stay cheap)
    expires_at: datetime | None
    revoked: bool
    cached_until: float


def credential(scope: Any) -> str | None:
    """The caller's credential from `Authorization: Bearer`, `X-API-Key` or `?apiKey=` (all equivalent).

    Two different credentials, or one transport given twice, are refused with 400 rather than resolved by
    precedence: a proxy in front may have checked one of them, and the request must not act as the other."""
    found: list[tuple[str, str]] = []  # (transport, value)
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                found.append(("authorization", rest.strip()))
        elif name == b"x-api-key" and value.strip():
            found.append(("x-api-key", value.decode("latin-1").strip()))
    query = scope.get("query_string", b"")
    if b"apiKey=" in query or b"%" in query:  # a parameter's name may be percent-encoded
        found += [("query", value) for name, value in parse_qsl(query.decode("latin-1")) if name == "apiKey" and value]
    if not found:
        return None
    if len(found) > 1 and (len({t for t, _ in found}) < len(found) or len({v for _, v in found}) > 1):
        raise APIError(400, "Send one credential: Authorization, X-API-Key and ?apiKey= conflict or repeat.")
    return found[0][1]


def header(scope: Any, wanted: bytes) -> str | None:
    """The first value of a request header (`wanted` in lower case), stripped; None if absent."""
    for name, value in scope["headers"]:
        if name == wanted:
            return value.decode("latin-1").strip()
    return None


class Authenticator:
    MAX_CACHED = 10_000

    def __init__(
        self,
        db: Database,
        verifier: TokenVerifier,
        *,
        cache_seconds: float = 5.0,
        last_used_interval: float = 300.0,
    ) -> None:
        self.db = db
        self.verifier = verifier
        self.cache_seconds = cache_seconds
        self.last_used_interval = last_used_interval
        self._keys: OrderedDict[str, _CachedKey] = OrderedDict()
        self._last_used_written: dict[uuid.UUID, float] = {}

    async def authenticate(self, scope: Any) -> Principal:
        secret = credential(scope)
        if secret is None:
            raise APIError(401, "Missing credentials: send an API key (Authorization: Bearer, X-API-Key or ?apiKey=).")
        if looks_like_jwt(secret):
            return await self._user(secret, header(scope, b"x-organization-id"))
        return await self._api_key(secret)

    def forget_key(self, key_id: uuid.UUID) -> None:
        """Makes a revoke take effect at once in this process."""
        for digest, cached in list(self._keys.items()):
            if cached.principal is not None and cached.principal.key_id == key_id:
                del self._keys[digest]

    async def _api_key(self, secret: str) -> ApiKeyPrincipal:
        digest = keys.hash_key(secret)
        now = time.monotonic()
        cached = self._keys.get(digest)
        if cached is None or cached.cached_until < now:
            # Only secrets that passed this check are ever cached, so a hit needs no second look at the shape.
            if not keys.well_formed(secret):
                raise APIError(401, "Invalid API key.")
            cached = await self._load_key(digest, now)
        if cached.principal is None:
            raise APIError(401, "Invalid API key.")
        if cached.revoked:
            raise APIError(401, "This API key has been revoked.")
        if cached.expires_at is not None and cached.expires_at <= utcnow():
            raise APIError(401, "This API key has expired.")
        last = self._last_used_written.get(cached.principal.key_id)
        if last is None or now - last >= self.last_used_interval:
            await self._touch(cached.principal.key_id, now)
        return cached.principal

    async def _load_key(self, digest: str, now: float) -> _CachedKey:
        async with self.db.read() as conn:
            row = await api_keys.find_by_hash(conn, digest)
        if row is None or not keys.same_hash(row["key_hash"], digest):
            cached = _CachedKey(None, None, False, now + self.cache_seconds)
        else:
            confined = None if row["course_ids"] is None else frozenset(uuid.UUID(c) for c in row["course_ids"])
            principal = ApiKeyPrincipal(row["id"], row["org_id"], row["scope"], confined)
            cached = _CachedKey(principal, row["expires_at"], row["revoked_at"] is not None, now + self.cache_seconds)
            if row["last_used_at"] is not None:
                self._last_used_written.setdefault(row["id"], now - self._age(row["last_used_at"]))
        self._keys[digest] = cached
        self._keys.move_to_end(digest)
        while len(self._keys) > self.MAX_CACHED:
            self._keys.popitem(last=False)
        return cached

    @staticmethod
    def _age(when: datetime) -> float:
        return max(0.0, (utcnow() - when).total_seconds())

    async def _touch(self, key_id: uuid.UUID, now: float) -> None:
        """Records last use; `_api_key` calls it at most once per interval per key, so a busy key does not write on
        every request."""
        self._last_used_written[key_id] = now
        try:
            async with self.db.write() as conn:
                await api_keys.touch_last_used(conn, key_id, utcnow())
        except Exception:  # a bookkeeping write must never fail the request it rides on
            log.exception("could not record last use of API key %s", key_id)

    async def _user(self, token: str, wanted_org: str | None) -> UserPrincipal:
        try:
            claims = await self.verifier.verify(token)
        except InvalidToken as exc:
            raise APIError(401, f"Invalid user token: {exc}.") from exc
        async with self.db.read() as conn:
            mine = await organizations.memberships(conn, claims.sub)
        # Invitations are accepted one by one (their link, or `acceptInvitation`), never by merely signing in.
        if wanted_org:
            try:
                org_id = uuid.UUID(wanted_org)
            except ValueError as exc:
                raise APIError(400, "X-Organization-Id must be a UUID.") from exc
            match = next((m for m in mine if m["org_id"] == org_id), None)
            if match is None:
                raise APIError(403, "You are not a member of the organization named by X-Organization-Id.")
            return UserPrincipal(claims.sub, claims.email, org_id, match["role"])
        if len(mine) != 1:  # none yet, or several and none named: never a silent choice among them
            return UserPrincipal(claims.sub, claims.email, None)
        return UserPrincipal(claims.sub, claims.email, mine[0]["org_id"], mine[0]["role"])
