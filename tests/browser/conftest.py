"""Browser tests: a real headless Chromium (Debian's) driven by Playwright against a live server on loopback.

They run whenever Chromium is present (`.ci/run` installs it); elsewhere they are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from tests.conftest import free_port, make_settings

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port, in a thread with its own event loop, for as long as the block runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the live server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    # Embedded mode (no Supabase): the browser signs in with one-time links, tokens signed with the test secret.
    with serving(make_settings()) as url:
        yield url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        instance = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield instance
        await instance.close()


@pytest.fixture
async def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = await browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    tab = await context.new_page()
    yield tab
    await context.close()
