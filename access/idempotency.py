"""`Idempotency-Key` on every POST under `/api`: a retry gets the first answer, and nothing is written twice.

The key is claimed by the request's first write transaction (`db.idempotency`), so the claim and the write commit
together. Once the answer is out, it is stored under the key; a request that finds the key taken replays it:

    same key, same request, answer stored      the first status and body, with `Idempotent-Replayed: true`
    same key, same request, no answer yet      waits for it (the first is finishing), then replays; 409 if it
                                               does not come (`idempotency_key_in_progress`: retry later)
    same key, another request                  422 `idempotency_key_reused`
    a malformed key                            400 `invalid_idempotency_key`

A request that fails before it writes anything (a malformed body) claims nothing: its retry is simply answered
again. A refusal from inside the write (a lost compare-and-set, a batch with a bad item) is kept like any other
answer, so its retry is refused the same way. A 5xx rolls its transaction back, claim included, so the retry runs
afresh.

Secrets are never stored: an answer whose handler named secret fields (`SECRET_FIELDS_KEY`: a new API key's
secret, an invitation's sign-in link) is stored with those fields null, so a replay answers the object without
its secret, marked `secret_withheld: true`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from access.authenticator import header
from access.errors import error_response
from access.middleware import BODY_KEY
from access.principal import SCOPE_KEY
from db.engine import Database
from db.idempotency import PENDING, Claim, KeyTaken, fingerprint, lookup, store_answers, well_formed

log = logging.getLogger("coursepipeline.idempotency")
HEADER = b"idempotency-key"
SECRET_FIELDS_KEY = "coursepipeline.secret_fields"  # fields of the answer that must never be stored
WAIT_SECONDS = 5.0  # how long a replay waits for the first request's answer
POLL_SECONDS = 0.02


class AnswerWriter:
    """Stores answers in batches: a request hands its answer over and is done, and one batch of statements on one
    connection stores every answer handed over meanwhile. (Stored one by one, each answer took a pool connection
    of its own after its write's, which under load queued requests for connections.) A retry that comes before its
    answer is stored waits for it, as it waits for a request still running."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[Claim, int, str]] = []
        self._flushing: asyncio.Task[None] | None = None

    def put(self, claim: Claim, status: int, body: str) -> None:
        self._waiting.append((claim, status, body))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.db.runner(transaction=self.db.is_sqlite) as conn:  # SQLite's writes queue on its lock
                    await store_answers(conn, batch)
            except Exception:  # the writes themselves are committed: their retries answer "in progress", not twice
                log.warning("storing %d idempotent answers failed", len(batch), exc_info=True)

    async def close(self) -> None:
        """Stores what is waiting (at shutdown)."""
        if self._flushing is not None:
            await self._flushing


def _storable(body: bytes, secret_fields: tuple[str, ...]) -> str:
    """The answer as stored: without the secrets it carried (a replay says it withheld them)."""
    if not secret_fields:
        return body.decode()
    answer = orjson.loads(body)
    if isinstance(answer, dict):
        for name in secret_fields:
            if name in answer:
                answer[name] = None
        answer["secret_withheld"] = True
    return orjson.dumps(answer).decode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, db: Database, answers: AnswerWriter) -> None:
        self.app = app
        self.db = db
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = header(scope, HEADER) if scope["type"] == "http" and scope["method"] == "POST" else None
        principal = scope.get(SCOPE_KEY)
        if raw is None or principal is None or principal.org_id is None or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if not well_formed(raw):
            message = "Idempotency-Key must be 1 to 255 visible ASCII characters."
            await error_response(400, message, code="invalid_idempotency_key")(scope, receive, send)
            return
        asked = fingerprint(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                            scope.get(BODY_KEY, b"").decode("utf-8", "replace"))  # fmt: skip
        claim = Claim(principal.org_id, principal.actor, raw, asked)
        # No look-up first: a retry is found by its claim, the first statement of its write transaction.
        status, body = await self._run(claim, scope, receive, send)
        if claim.attempted and status is not None and status < 500:
            self.answers.put(claim, status, _storable(b"".join(body), scope.get(SECRET_FIELDS_KEY, ())))

    async def _run(self, claim: Claim, scope: Scope, receive: Receive, send: Send) -> tuple[int | None, list[bytes]]:
        status: int | None = None
        body: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        token = PENDING.set(claim)
        try:
            await self.app(scope, receive, keep)
        except KeyTaken:  # raced by a request with the same key that committed first
            async with self.db.runner() as conn:
                stored = await lookup(conn, claim)
            await self._replay(claim, stored, scope, receive, send)
            return None, []
        finally:
            PENDING.reset(token)
        return status, body

    async def _replay(self, claim: Claim, stored: Any, scope: Scope, receive: Receive, send: Send) -> None:
        if stored is not None and stored["fingerprint"] != claim.fingerprint:
            message = "This Idempotency-Key was used with another request; use a new key for a new request."
            await error_response(422, message, code="idempotency_key_reused")(scope, receive, send)
            return
        waited = 0.0
        while stored is not None and stored["status"] is None and waited < WAIT_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            waited += POLL_SECONDS
            async with self.db.runner() as conn:
                stored = await lookup(conn, claim)
        if stored is None or stored["status"] is None:
            message = "A request with this Idempotency-Key is still being processed; retry shortly."
            await error_response(409, message, code="idempotency_key_in_progress", headers={"Retry-After": "1"})(
                scope, receive, send
            )
            return
        headers = [(b"content-type", b"application/json"), (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
        await send({"type": "http.response.body", "body": stored["response"].encode()})
