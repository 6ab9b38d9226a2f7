"""Production sign-in: the page signs in through Supabase Auth and uses its access token.

A local stand-in for Supabase Auth (the password grant and the JWKS, with CORS) issues ES256 tokens, so the whole
path — supabase-js in the browser, the JWKS check on the server — runs here without the internet.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from access.tokens import local_user_id
from tests.browser.conftest import serving
from tests.conftest import free_port, make_settings, make_tenant

EMAIL, PASSWORD = "owner@supabase.example", "correct horse battery staple"


@pytest.fixture(scope="module")
def fake_supabase() -> Iterator[str]:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "k1", "alg": "ES256", "use": "sig"})
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any = None) -> None:
            self.send_response(status)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if body is not None:
                self.wfile.write(json.dumps(body).encode())

        def do_OPTIONS(self) -> None:
            self._send(204)

        def do_GET(self) -> None:
            if self.path == "/auth/v1/.well-known/jwks.json":
                self._send(200, {"keys": [jwk]})
            else:
                self._send(404, {"msg": "not found"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not self.path.startswith("/auth/v1/token") or body.get("password") != PASSWORD:
                self._send(400, {"error": "invalid_grant", "error_description": "Invalid login credentials"})
                return
            now = int(time.time())
            user = {"id": local_user_id(EMAIL), "email": body["email"], "aud": "authenticated", "role": "authenticated"}
            claims = {"sub": user["id"], "email": body["email"], "aud": "authenticated", "role": "authenticated",
                      "iss": f"{base}/auth/v1", "iat": now, "exp": now + 3600}  # fmt: skip
            token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": "k1"})
            self._send(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                             "expires_at": now + 3600, "refresh_token": "refresh", "user": user})  # fmt: skip

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base
    server.shutdown()


@pytest.fixture(scope="module")
def supabase_app(fake_supabase: str) -> Iterator[str]:
    settings = make_settings(supabase_url=fake_supabase, supabase_anon_key="anon-key", supabase_jwt_secret=None)
    with serving(settings) as url:
        yield url


async def test_sign_in_through_supabase_auth(browser, supabase_app, services):  # type: ignore[no-untyped-def]
    await make_tenant(services, "Supabase Org", EMAIL)
    context = await browser.new_context(base_url=supabase_app)
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_role("heading", name="Sign in to CoursePipeline").wait_for()

    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Invalid login credentials").wait_for()

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Courses").wait_for()
    assert "Supabase Org" in await page.inner_text("header")
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_role("cell", name="test", exact=True).wait_for()
    await context.close()
