"""Counts each API key's requests and 429s per UTC day in memory, where the rate limiter sees them, so the hot path
adds one dictionary update; `flush()` hands the counts to the database in one batch (the app calls it every few
seconds and at shutdown). The counter is keyed by authenticated keys only, so its size is bounded by the keys of
the organizations and by the flush interval."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime

from db.engine import Database
from db.queries import usage

log = logging.getLogger(__name__)


class UsageCounter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._counts: dict[tuple[uuid.UUID, date], list[int]] = {}
        self._day = datetime.now(UTC).date()

    def count(self, key_id: uuid.UUID, limited: bool) -> None:
        counts = self._counts.get((key_id, self._day))
        if counts is None:
            self._day = datetime.now(UTC).date()  # a new key (or a new day: read the clock only then)
            counts = self._counts.setdefault((key_id, self._day), [0, 0])
        counts[0] += 1
        if limited:
            counts[1] += 1

    def roll_day(self) -> None:
        """Called by the flusher: counts after midnight UTC go to the new day."""
        self._day = datetime.now(UTC).date()

    async def flush(self) -> None:
        if not self._counts:
            return
        batch, self._counts = self._counts, {}
        try:
            async with self.db.write() as conn:
                await usage.add(conn, {k: (v[0], v[1]) for k, v in batch.items()})
        except Exception:  # usage is bookkeeping: keep the counts for the next flush rather than fail anything
            log.warning("storing API key usage failed; will retry", exc_info=True)
            for k, (requests, limited) in batch.items():
                counts = self._counts.setdefault(k, [0, 0])
                counts[0] += requests
                counts[1] += limited
