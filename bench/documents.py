"""How much one app's resident memory grows when a caller sends many distinct documents.

Each document selects the same fields under aliases of its own, so every one is new to every cache keyed by what a
caller sends (document text, selection shapes). The app runs in this process against an empty SQLite database;
the answer is the growth of the resident set after the first `--warm` documents, which fill the caches to their
bounds. `python -m bench.documents --documents 100000`.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from pathlib import Path

from access.principal import ApiKeyPrincipal
from app.services import Services
from app.settings import Settings
from db.migrate import upgrade


def resident_mb() -> float:
    """The current resident set (Linux: /proc), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(documents: int, warm: int) -> dict[str, float]:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='coursepipeline-documents-')) / 'bench.db'}"
    upgrade(url)
    services = Services.build(Settings(database_url=url, supabase_jwt_secret="documents-" + "x" * 40))
    schema = services.graphql.schema
    context = services.graphql.context(ApiKeyPrincipal(uuid.uuid4(), uuid.uuid4()))
    started, before = time.perf_counter(), 0.0
    try:
        for i in range(documents):
            if i == warm:
                before = resident_mb()
            document = f"{{ courses {{ data {{ id{i}: id name{i}: name }} pagination {{ limit{i}: limit }} }} }}"
            for _ in range(2):  # new, then known (from its plan when the engine is on)
                result = await schema.execute(document, context_value=context)
                assert result.errors is None, result.errors
    finally:
        await services.db.dispose()
    after = resident_mb()
    sizes = schema.cache_sizes() if hasattr(schema, "cache_sizes") else {}
    print(f"engine {'on' if services.graphql.fast else 'off'}: {documents} documents in "
          f"{time.perf_counter() - started:.0f} s; resident {before:.1f} MiB after {warm}, {after:.1f} MiB after all: "
          f"+{after - before:.1f} MiB; caches {sizes}")  # fmt: skip
    return {"before_mb": before, "after_mb": after, "growth_mb": after - before}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--warm", type=int, default=5_000, help="documents sent before the first reading")
    args = parser.parse_args(argv)
    asyncio.run(measure(args.documents, min(args.warm, args.documents - 1)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
