"""Idempotency keys: a retried write is answered from what its first attempt stored, and never written twice.

A request carrying a key sets `PENDING` before it runs. The first write transaction it opens (`Database.write()`
or `Database.runner(transaction=True)`) claims the key as its first statement, so the claim commits or rolls back
with the write itself: the primary key (organization, caller, key) lets one claim commit, and a request racing
another with the same key waits on the index until the first commits, then learns the key is taken (`KeyTaken`).
The answer is stored afterwards (`store_answers`), or, where the writer knows it inside the transaction, with the
claim itself (`claim_with_answer`). A refusal whose transaction rolled back (the claim with it) is stored by
inserting the claim afresh, so its retry is refused the same way rather than evaluated again. Claims live 24
hours; `prune` deletes the expired ones.

A claim names the learners its write is about (`learner_ids`): erasing a learner deletes the claims naming them,
so an answer stored after the erasure finds no claim to store into, and nothing of the learner stays behind.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import IdempotencyKey
from db.prepared import Prepared, Row, Source, as_runner
from db.queries.common import bound_values, dialect_insert, table
from db.types import utcnow

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255

keys = table(IdempotencyKey)


def well_formed(key: str) -> bool:
    """1 to 255 visible ASCII characters, as the API documents."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all("!" <= c <= "~" for c in key)


def fingerprint(*parts: Any) -> str:
    """SHA-256 of what was asked (JSON with sorted keys), so the same key with another request is told apart."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class Claim:
    org_id: uuid.UUID
    caller: str
    key: str
    fingerprint: str
    taken: bool = field(default=False, compare=False)  # claimed by a transaction that has not rolled back
    learner_ids: str | None = field(default=None, compare=False)  # as the claim stored them
    # When it was claimed: the claim's identity, so a late answer never lands in a later claim of the same key
    # (one made after this one was deleted by an erasure, say).
    claimed_at: datetime | None = field(default=None, compare=False)
    attempted: bool = field(default=False, compare=False)  # a write transaction began under it: the answer is kept


class KeyTaken(Exception):
    """The key is claimed already, by an earlier request or by one that raced this one and committed first."""

    def __init__(self, claim: Claim) -> None:
        super().__init__(f"idempotency key {claim.key!r} is taken")
        self.claim = claim


# The request's claim, waiting for its first write transaction. A mutable holder: resolvers may run in tasks
# that copied the context, and the flag must be seen by the request that set it.
PENDING: ContextVar[Claim | None] = ContextVar("coursepipeline_idempotency_claim", default=None)


def _claim(dialect: str) -> Any:
    """Inserts the claim; an expired one under the same key is taken over. No row back: the key is taken."""
    insert = dialect_insert(dialect, keys).values(bound_values(keys, _COLUMNS))
    return insert.on_conflict_do_update(
        index_elements=["org_id", "caller", "key"],
        set_={name: insert.excluded[name] for name in _COLUMNS[3:]},
        where=keys.c.expires_at <= insert.excluded.created_at,
    ).returning(keys.c.key)


_COLUMNS = ("org_id", "caller", "key", "fingerprint", "status", "response", "learner_ids", "created_at", "expires_at")
CLAIM = Prepared(_claim)


def _claim_row(
    claim: Claim, status: int | None, response: str | None, learner_ids: Sequence[uuid.UUID]
) -> dict[str, Any]:
    now = utcnow()
    return {"org_id": claim.org_id, "caller": claim.caller, "key": claim.key, "fingerprint": claim.fingerprint,
            "status": status, "response": response, "learner_ids": ",".join(map(str, learner_ids)) or None,
            "created_at": now, "expires_at": now + TTL}  # fmt: skip


async def claim_with_answer(
    conn: Source,
    claim: Claim,
    status: int | None = None,
    answer: Any = None,
    learner_ids: Sequence[uuid.UUID] = (),
) -> None:
    """Claims the key in the caller's transaction (with its answer, if known, and the learners the write names);
    raises `KeyTaken` if it is taken."""
    response = None if answer is None else orjson.dumps(answer).decode()
    row = _claim_row(claim, status, response, learner_ids)
    if not await as_runner(conn).rows(CLAIM, **row):
        raise KeyTaken(claim)
    claim.taken = claim.attempted = True
    claim.learner_ids, claim.claimed_at = row["learner_ids"], row["created_at"]


async def take_pending(conn: Source, learner_ids: Sequence[uuid.UUID] = ()) -> Claim | None:
    """Run first in every write transaction: claims the request's key, if it has one not claimed yet; answers the
    claim it took, for the transaction to hand back (`released`) if it rolls back."""
    claim = PENDING.get()
    if claim is None or claim.taken:
        return None
    await claim_with_answer(conn, claim, learner_ids=learner_ids)
    return claim


def released(claim: Claim | None) -> None:
    """The transaction that took `claim` rolled back, and the claim with it."""
    if claim is not None:
        claim.taken = False


_STORE = Prepared(
    lambda dialect: (
        update(keys)
        .where(
            keys.c.org_id == bindparam("key_org_id"),
            keys.c.caller == bindparam("key_caller"),
            keys.c.key == bindparam("key_key"),
            keys.c.created_at == bindparam("key_created_at", type_=keys.c.created_at.type),
            keys.c.status.is_(None),
        )
        .values(bound_values(keys, ("status", "response", "learner_ids")))
    )
)


_STORE_AFRESH = Prepared(
    lambda dialect: (
        dialect_insert(dialect, keys)
        .values(bound_values(keys, _COLUMNS))
        .on_conflict_do_nothing(index_elements=["org_id", "caller", "key"])  # a racer claimed it since: its answer
    )
)


async def store_answers(conn: Source, answers: list[tuple[Claim, int, str]]) -> None:
    """The answers to claimed keys, once their requests have them, in one batch. A claim whose transaction rolled
    back (a refusal) is inserted afresh with its answer; one deleted since (its learner erased) stays deleted."""
    runner = as_runner(conn)
    # A refusal wrote nothing about its learners: it stops naming them (one erased since names nobody now).
    stored = [{"key_org_id": claim.org_id, "key_caller": claim.caller, "key_key": claim.key,
               "key_created_at": claim.claimed_at, "status": status, "response": body,
               "learner_ids": claim.learner_ids if status < 400 else None}
              for claim, status, body in answers if claim.taken]  # fmt: skip
    afresh = [_claim_row(claim, status, body, ()) for claim, status, body in answers if not claim.taken]
    if stored:
        await runner.execute_many(_STORE, stored)
    if afresh:
        await runner.execute_many(_STORE_AFRESH, afresh)


_LOOKUP = Prepared(
    lambda dialect: select(keys.c.fingerprint, keys.c.status, keys.c.response, keys.c.expires_at).where(
        keys.c.org_id == bindparam("org_id"), keys.c.caller == bindparam("caller"), keys.c.key == bindparam("key")
    )
)


async def lookup(conn: Source, claim: Claim) -> Row | None:
    """The live claim under the same key, if any (an expired one counts as none)."""
    rows = await as_runner(conn).rows(_LOOKUP, org_id=claim.org_id, caller=claim.caller, key=claim.key)
    if not rows or rows[0]["expires_at"] <= utcnow():
        return None
    return rows[0]


async def prune(conn: AsyncConnection) -> int:
    """Deletes every expired claim; answers how many."""
    result = await conn.execute(delete(keys).where(keys.c.expires_at <= utcnow()))
    return int(result.rowcount or 0)
