"""Structured logs: with COURSEPIPELINE_LOG_FORMAT=json every line the server writes is a JSON object naming the
request it belongs to, and secrets stay redacted."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from access.middleware import REQUEST_ID
from app.logging import JSONLines, RedactApiKeys
from db.migrate import upgrade
from tests.conftest import free_port


def test_a_json_line_carries_the_request_id_and_the_redacted_message():
    record = logging.LogRecord(
        "coursepipeline", logging.ERROR, __file__, 1, "GET %s", ("/api?apiKey=cp_secret9",), None
    )
    RedactApiKeys().filter(record)
    token = REQUEST_ID.set("req-7")
    try:
        line = orjson.loads(JSONLines().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "req-7" and line["level"] == "error" and line["logger"] == "coursepipeline"
    assert "cp_secret9" not in line["message"] and "[REDACTED]" in line["message"]
    assert line["time"].endswith("Z")


def test_the_server_writes_json_lines_with_the_request_id(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    upgrade(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "COURSEPIPELINE_LOG_FORMAT": "json", "SUPABASE_JWT_SECRET": "x" * 40}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/courses?apiKey=cp_nosuchkey1",
                                     headers={"X-Request-Id": "trace-42"})  # fmt: skip
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert response.status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    lines = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([line for line in output.splitlines() if line.strip()]), output
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access and access[-1]["request_id"] == "trace-42" and "cp_nosuchkey1" not in output
