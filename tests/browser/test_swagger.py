"""/api/docs with the demo organization: "Try it out" succeeds unedited, since the examples are its real ids."""

from __future__ import annotations

from access import keys
from app.demo import load_demo
from db.queries import api_keys
from tests.browser.conftest import DESKTOP, _tab, serving
from tests.conftest import make_settings


async def test_try_it_out_works_unedited_with_the_demo(browser, services):  # type: ignore[no-untyped-def]
    async with services.db.write() as conn:
        org_id = await load_demo(conn, learners_count=20)
        new = keys.generate()
        await api_keys.insert_key(conn, org_id, name="docs", prefix=new.prefix, key_hash=new.hash, created_by=None,
                                  expires_at=None)  # fmt: skip
    with serving(make_settings()) as url:  # a server started after the demo was loaded, as `make run` is
        context, page = await _tab(browser, url, DESKTOP)
        try:
            await page.goto("/api/docs")
            await page.get_by_role("button", name="Authorize").first.click()
            scheme = page.locator(".auth-container").filter(has_text="HeaderApiKey")
            await scheme.locator("input").fill(new.secret)
            await scheme.get_by_role("button", name="Authorize").click()
            await page.get_by_role("button", name="Close").first.click()

            tries = (
                ("Courses-get_course", "200", "Python Foundations"),
                ("Variables-set_variable", "201", "learner_id"),
            )
            for operation_id, code, expected in tries:
                operation = page.locator(f"#operations-{operation_id}")
                await operation.locator(".opblock-summary").click()
                await operation.get_by_role("button", name="Execute").click()
                status = operation.locator(".live-responses-table tbody .response-col_status").first
                await status.wait_for()
                assert (await status.inner_text()).strip() == code, operation_id
                assert expected in await operation.locator(".live-responses-table").inner_text()

            keys_operation = page.locator("[id^='operations-'][id$='-list_api_keys']").first
            await keys_operation.locator(".opblock-summary").click()
            assert "API key gets 403" in await keys_operation.inner_text()
            assert page.foreign_requests == []
        finally:
            await context.close()
