"""`GET /health`: the app's and the database's state, without credentials, for load balancers."""

from __future__ import annotations

import time

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from app import __version__
from app.services import Services


async def health(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    started = time.perf_counter()
    try:
        async with services.db.read() as conn:
            await conn.execute(text("SELECT 1"))
        database = {
            "status": "ok",
            "backend": services.db.dialect.name,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    except Exception as exc:  # the point of this endpoint is to report failure, not to raise it
        database = {"status": "error", "backend": services.db.dialect.name, "detail": type(exc).__name__}
    healthy = database["status"] == "ok"
    body = {"status": "ok" if healthy else "degraded", "version": __version__, "database": database}
    limits = services.rate_limits
    if limits is not None and limits.shared is not None:
        body["rate_limit_storage"] = "redis" if limits.using_shared else "local-fallback"
    return JSONResponse(body, status_code=200 if healthy else 503)
