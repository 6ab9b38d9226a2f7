"""Streamed exports: a variable's values as CSV, and everything held about one learner as JSON.

Neither builds its answer in memory: after one document checks the object exists (a 404 before anything is sent),
the answer is written page by page, each page one run of the list's own document with the cursor of the page
before, so memory stays flat however many values there are, and no connection is held between pages.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rest import params as p
from rest.executor import found, run

PAGE = 1000  # rows a page: the list's own maximum
CSV_COLUMNS = ("id", "variable_id", "learner_id", "course_run_id", "value", "recorded_at")


async def pages(request: Request, document: str, variables: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of a list document, a page at a time, walking its cursors."""
    cursor = None
    while True:
        data = await run(request, document, {**variables, "limit": PAGE, "offset": 0, "cursor": cursor})
        result = data["result"]
        if result is None:  # deleted while it was being exported
            return
        yield result["data"]
        cursor = result["pagination"]["next_cursor"]
        if cursor is None:
            return


def _cell(kind: str, value: Any) -> str:
    """A text value as it is; any other value as its JSON text (a JSON string keeps its quotes)."""
    if kind == "TEXT":
        return str(value)
    return orjson.dumps(value).decode()


def _filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:100] or "variable"


async def variable_values_csv(request: Request) -> Response:
    variable_id = p.path_id(request, "variable_id")
    learner_id = p.query_id(request, "learner_id")
    variable = found(await run(request, "GetVariable", {"id": variable_id}), "Variable")
    kind = variable["type"]

    async def rows() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # RFC 4180: CRLF line ends, quotes doubled, fields quoted where needed
        writer.writerow(CSV_COLUMNS)
        async for page in pages(request, "ListVariableValues", {"id": variable_id, "learnerId": learner_id}):
            writer.writerows(
                (v["id"], v["variable_id"], v["learner_id"], v["course_run_id"] or "", _cell(kind, v["value"]),
                 v["recorded_at"])
                for v in page
            )  # fmt: skip
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():  # the header of an empty export
            yield buffer.getvalue().encode()

    disposition = f'attachment; filename="{_filename(variable["name"])}-values.csv"'
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


async def learner_export(request: Request) -> Response:
    learner_id = p.path_id(request, "learner_id")
    learner = found(await run(request, "LearnerExport", {"id": learner_id}), "Learner")
    enrollments = learner.pop("enrollments")
    current = learner.pop("variables")
    for value in current:
        value["type"] = value["type"].lower()

    async def body() -> AsyncIterator[bytes]:
        yield b'{"learner":%b,"enrollments":%b,"current_values":%b,"values":[' % (
            orjson.dumps(learner),
            orjson.dumps(enrollments),
            orjson.dumps(current),
        )
        first = True
        async for page in pages(request, "ListLearnerValues", {"id": learner_id}):
            if page:
                chunk = b",".join(orjson.dumps(v) for v in page)
                yield chunk if first else b"," + chunk
                first = False
        yield b"]}"

    disposition = f'attachment; filename="learner-{learner_id}.json"'
    return StreamingResponse(body(), media_type="application/json", headers={"Content-Disposition": disposition})
