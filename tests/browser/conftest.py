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
from pathlib import Path
from urllib.parse import urlsplit

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


AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def _tab(browser, base_url: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    """A page in a context of its own that refuses, and records, every request to a host other than the app's."""
    context = await browser.new_context(base_url=base_url, viewport=viewport)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    app_host = urlsplit(base_url).netloc
    foreign: list[str] = []

    async def guard(route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == app_host:
            await route.continue_()
        else:
            foreign.append(url)
            await route.abort()

    await context.route("**/*", guard)
    tab = await context.new_page()
    tab.foreign_requests = foreign  # type: ignore[attr-defined]
    return context, tab


@pytest.fixture(params=["desktop", "phone"])
async def page(request, browser, live_server):  # type: ignore[no-untyped-def]
    """Every browser test runs at a desktop size and at a phone's, and fails on any request off the app's host."""
    context, tab = await _tab(browser, live_server, DESKTOP if request.param == "desktop" else PHONE)
    tab.is_phone = request.param == "phone"  # type: ignore[attr-defined]
    yield tab
    await context.close()
    assert tab.foreign_requests == [], f"requests to other hosts: {tab.foreign_requests}"  # type: ignore[attr-defined]


async def serious_violations(tab) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical findings on the page as it is now (axe from npm, injected from disk)."""
    if not await tab.evaluate("typeof window.axe !== 'undefined'"):
        await tab.add_script_tag(path=str(AXE))
    results = await tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
