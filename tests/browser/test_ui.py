"""The web UI as a person uses it: sign in, manage API keys, use one, and read the charts."""

from __future__ import annotations

import httpx
import pytest

from access.login_links import create_link
from tests import factories as f
from tests.conftest import GQL, make_tenant


@pytest.fixture
async def signed_in(page, services, live_server, client):  # type: ignore[no-untyped-def]
    tenant = await make_tenant(services, "Acme Learning", "admin@acme.example")
    gql = GQL(client, tenant.key_headers)
    course = await f.course(gql, "Python Foundations", externalId="PY-101")
    score = await f.variable(gql, course["id"], "NUMBER", "quiz_score")
    level = await f.variable(gql, course["id"], "TEXT", "skill_level")
    for i, (points, skill) in enumerate([(55, "beginner"), (70, "advanced"), (72, "advanced"), (90, "expert")]):
        learner = await f.learner(gql, f"learner{i}@acme.example", f"Learner {i}")
        await f.set_value(gql, score["id"], learner["id"], points)
        await f.set_value(gql, level["id"], learner["id"], skill)
    link = await create_link(services.db, tenant.email, live_server)
    await page.goto(link)
    await page.get_by_role("heading", name="Courses").wait_for()
    return {"tenant": tenant, "course": course, "score": score, "level": level, "link": link}


async def test_sign_in_link_works_once(page, signed_in, live_server):  # type: ignore[no-untyped-def]
    assert await page.get_by_role("link", name="Python Foundations").is_visible()
    assert page.url == f"{live_server}/"
    again = await page.context.new_page()
    response = await again.goto(signed_in["link"])
    assert response is not None and response.status == 400
    assert "expired or was already used" in await again.inner_text("body")


async def test_create_copy_use_and_revoke_an_api_key(page, signed_in, live_server):  # type: ignore[no-untyped-def]
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_label("Name").fill("Browser key")
    await page.get_by_role("button", name="Create key").click()
    secret = (await page.locator("#new-key").inner_text()).strip()
    assert secret.startswith("cp_")
    assert "only time it is shown" in await page.locator(".secret").inner_text()

    await page.get_by_role("button", name="Copy key").click()
    await page.get_by_role("button", name="Copied").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == secret

    async with httpx.AsyncClient(base_url=live_server) as api:
        assert (await api.get("/api/courses", headers={"X-API-Key": secret})).status_code == 200

        await page.get_by_role("button", name="Revoke Browser key").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_role("button", name="Revoke key").click()
        row = page.get_by_role("row").filter(has_text="Browser key")
        await row.get_by_text("revoked").wait_for()
        assert (await api.get("/api/courses", headers={"X-API-Key": secret})).status_code == 401
    await page.reload()
    assert "only time it is shown" not in await page.inner_text("main")  # the secret is never shown again


async def test_cancelling_a_revoke_keeps_the_key(page, signed_in):  # type: ignore[no-untyped-def]
    await page.goto("/settings/api-keys")
    await page.get_by_role("button", name="Revoke test").click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    row = page.get_by_role("row").filter(has_text="test")
    assert "active" in await row.inner_text()


async def test_dashboard_course_and_variable_charts(page, signed_in):  # type: ignore[no-untyped-def]
    card = page.locator("article").filter(has_text="Python Foundations")
    assert "PY-101" in await card.inner_text()
    await page.get_by_role("link", name="Python Foundations").click()
    await page.get_by_role("link", name="quiz_score").click()
    chart = page.get_by_role("img", name="Histogram of current values of quiz_score")
    await chart.wait_for()
    assert await chart.locator("rect.bar").count() == 10
    label = await chart.get_attribute("aria-label")
    assert label is not None and sum(int(part.rsplit(" ", 1)[1]) for part in label.split(": ", 1)[1].split(", ")) == 4
    assert "learner3@acme.example" in await page.inner_text("main")

    await page.go_back()
    await page.get_by_role("link", name="skill_level").click()
    bars = page.get_by_role("img", name="Distribution of current values of skill_level")
    await bars.wait_for()
    assert await bars.locator("rect.bar").count() == 3
    assert (await bars.get_attribute("aria-label") or "").startswith(
        "Distribution of current values of skill_level: advanced 2"
    )


async def test_learner_search(page, signed_in):  # type: ignore[no-untyped-def]
    await page.get_by_role("link", name="Learners").click()
    await page.get_by_label("Search by name or email").fill("LEARNER2")
    await page.keyboard.press("Enter")
    await page.get_by_role("status").filter(has_text="1 learner").wait_for()
    assert "learner2@acme.example" in await page.inner_text("table")


async def test_keyboard_and_narrow_screens(page, signed_in):  # type: ignore[no-untyped-def]
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.goto("/settings/api-keys")
    await page.get_by_role("heading", name="API keys").wait_for()
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    first = "document.querySelector('a[href], button, input, select').textContent"
    assert await page.evaluate(first) == "Skip to content"  # the first stop in tab order
    # Keyboard only: from the skip link, tab to the form, type a name, submit with Enter.
    await page.get_by_text("Skip to content").focus()
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "key-name":
            break
    await page.keyboard.type("Keyboard key")
    await page.keyboard.press("Enter")
    await page.locator("#new-key").wait_for()
    for control in await page.locator("main input").all():
        control_id = await control.get_attribute("id")
        assert await page.locator(f"label[for='{control_id}']").count() == 1


async def test_a_user_without_an_organization_creates_one(page, services, live_server):  # type: ignore[no-untyped-def]
    await page.goto(await create_link(services.db, "newcomer@example.com", live_server))
    await page.get_by_role("heading", name="Create your organization").wait_for()
    await page.get_by_label("Organization name").fill("Newcomer Academy")
    await page.get_by_role("button", name="Create organization").click()
    await page.get_by_role("heading", name="API keys").wait_for()
    assert "Newcomer Academy" in await page.inner_text("header")


async def test_switching_organizations(page, signed_in, services, client):  # type: ignore[no-untyped-def]
    tenant = signed_in["tenant"]
    second = await client.post("/graphql", headers=tenant.user_headers, json={
        "query": 'mutation { createOrganization(name: "Second Org") { ... on Organization { id } } }'})  # fmt: skip
    assert second.status_code == 200
    await page.reload()
    switcher = page.get_by_label("Organization")
    await switcher.select_option(label="Second Org")
    await page.get_by_text("No courses yet").wait_for()
    await switcher.select_option(label="Acme Learning")
    await page.get_by_role("link", name="Python Foundations").wait_for()


async def test_api_docs_authorize_with_a_key_and_try_a_call(page, services, client):  # type: ignore[no-untyped-def]
    tenant = await make_tenant(services, "Docs Org")
    await f.course(GQL(client, tenant.key_headers), "Docs course")
    await page.goto("/api/docs")
    await page.get_by_role("button", name="Authorize").first.click()
    scheme = page.locator(".auth-container").filter(has_text="HeaderApiKey")
    await scheme.locator("input").fill(tenant.key)
    await scheme.get_by_role("button", name="Authorize").click()
    await page.get_by_role("button", name="Close").first.click()

    operation = page.locator("#operations-Courses-list_courses")
    await operation.locator(".opblock-summary").click()  # try-it-out is on by default here
    await operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table tbody .response-col_status").first
    await response.wait_for()
    assert (await response.inner_text()).strip() == "200"
    assert "Docs course" in await operation.locator(".live-responses-table").inner_text()
