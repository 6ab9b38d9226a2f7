"""CPython's cyclic garbage collector, set for a long-running server process.

Reference counting frees a request's objects when it ends (tests check that a request leaves no cycles behind),
so the cyclic collector has little to find. Its default first threshold (700 net allocations) suits scripts: a
server with dozens of requests in flight ran a young collection every few requests, each one promoted the
in-flight requests' objects, and those promotions set off full collections that walked the whole heap (schema,
SQL metadata, modules), each one long and together a large share of the CPU under load.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def tune_for_serving() -> None:
    """Call once the app is built, before serving."""
    gc.collect()
    # What startup built lives as long as the process: keep it out of every later full collection.
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
