"""The web UI as a person uses it, at a desktop size and a phone's: sign in, keys, charts, learners, errors."""

from __future__ import annotations

import httpx
import pytest

from access.login_links import create_link
from app.demo import DEMO_EMAIL, load_demo
from tests import factories as f
from tests.browser.conftest import serious_violations
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
    return {"tenant": tenant, "course": course, "score": score, "level": level, "link": link, "gql": gql}


async def no_horizontal_overflow(page) -> None:  # type: ignore[no-untyped-def]
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1


async def test_sign_in_link_works_once(page, signed_in, live_server):  # type: ignore[no-untyped-def]
    assert await page.get_by_role("link", name="Python Foundations").is_visible()
    assert page.url == f"{live_server}/"
    again = await page.context.new_page()
    response = await again.goto(signed_in["link"])
    assert response is not None and response.status == 400
    assert "expired or was already used" in await again.inner_text("body")


async def test_create_copy_use_and_revoke_an_api_key(page, signed_in, live_server):  # type: ignore[no-untyped-def]
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_label("Name", exact=True).fill("Browser key")
    await page.get_by_role("button", name="Create key").click()
    secret_box = page.locator("#new-key")
    await secret_box.wait_for()
    secret = (await secret_box.inner_text()).strip()
    assert secret.startswith("cp_")
    assert await page.evaluate("document.activeElement.id") == "new-key"  # focus moved to the secret
    status = page.get_by_role("status").filter(has_text="created")
    assert "shown only once" in await status.inner_text()  # and it was announced
    assert "null" not in await page.inner_text("main")

    await page.get_by_role("button", name="Copy key").click()
    await page.get_by_role("button", name="Copied").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == secret

    async with httpx.AsyncClient(base_url=live_server) as api:
        assert (await api.get("/api/courses", headers={"X-API-Key": secret})).status_code == 200

        await page.get_by_role("button", name="Revoke Browser key").click()
        await page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
        row = page.get_by_role("row").filter(has_text="Browser key")
        await row.get_by_text("revoked").wait_for()
        assert await page.evaluate("document.activeElement.getAttribute('aria-label')") == "API keys"
        assert (await api.get("/api/courses", headers={"X-API-Key": secret})).status_code == 401
    await page.reload()
    await page.get_by_role("table", name="API keys").wait_for()
    assert "only time it is shown" not in await page.inner_text("main")  # the secret is never shown again


async def test_cancelling_a_revoke_keeps_the_key(page, signed_in):  # type: ignore[no-untyped-def]
    await page.goto("/settings/api-keys")
    await page.get_by_role("button", name="Revoke test").click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    row = page.get_by_role("row").filter(has_text="test")
    assert "active" in await row.inner_text()


async def test_keys_table_with_long_names_search_and_sort(page, signed_in, client):  # type: ignore[no-untyped-def]
    headers = signed_in["tenant"].user_headers
    long_name = "integration-" + "x" * 188
    for name in (long_name, "alpha sync", "zulu export"):
        answer = await client.post("/api/api-keys", headers=headers, json={"name": name})
        assert answer.status_code == 201
    await page.goto("/settings/api-keys")
    table = page.get_by_role("table", name="API keys")
    await table.wait_for()
    await no_horizontal_overflow(page)
    width = await page.evaluate("window.innerWidth")
    for button in await page.get_by_role("button", name="Revoke").all():  # every action within the screen
        box = await button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

    await page.get_by_label("Find a key").fill("ZULU")
    assert [await n.inner_text() for n in await table.locator("td.key-name").all()] == ["zulu export"]
    await page.get_by_label("Find a key").fill("")
    await page.get_by_label("Sort by").select_option(label="Name, ascending")
    names = [await n.inner_text() for n in await table.locator("td.key-name").all()]
    assert names == sorted(names) and len(names) == 4
    assert (await table.locator("th[aria-sort='ascending']").inner_text()).startswith("Name")
    if not page.is_phone:  # the column headers sort too where they are shown
        await table.get_by_role("button", name="Name").click()
        assert [await n.inner_text() for n in await table.locator("td.key-name").all()] == sorted(names, reverse=True)


async def test_dashboard_course_and_variable_charts(page, signed_in):  # type: ignore[no-untyped-def]
    card = page.locator("article").filter(has_text="Python Foundations")
    assert "PY-101" in await card.inner_text()
    await page.get_by_role("link", name="Python Foundations").click()
    per_variable = page.get_by_role("table", name="Learners with a value, per variable")
    await per_variable.wait_for()
    assert await per_variable.locator("tbody tr").count() == 2

    await page.get_by_role("link", name="quiz_score").first.click()
    histogram = page.get_by_role("table", name="Histogram of current values of quiz_score")
    await histogram.wait_for()
    counts = [int(await c.inner_text()) for c in await histogram.locator("tbody tr td:nth-child(2)").all()]
    assert len(counts) == 10 and sum(counts) == 4
    assert await page.locator(".chart .recharts-cartesian-axis.xAxis").count() == 1  # axes are drawn
    assert await page.locator(".chart .recharts-cartesian-axis.yAxis").count() == 1
    assert "learner3@acme.example" in await page.inner_text("main")
    # Tick labels stay readable on a phone.
    size = await page.locator(".chart .chart-tick").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 12
    assert "half the learners" in await page.inner_text("main")  # the figures are explained

    await page.go_back()
    await page.get_by_role("link", name="skill_level").first.click()
    bars = page.get_by_role("table", name="Distribution of current values of skill_level")
    await bars.wait_for()
    rows = [await r.inner_text() for r in await bars.locator("tbody tr").all()]
    assert len(rows) == 3 and rows[0].split() == ["advanced", "2"]
    await no_horizontal_overflow(page)


async def test_json_values_are_labelled_by_their_full_text(page, signed_in):  # type: ignore[no-untyped-def]
    gql, course = signed_in["gql"], signed_in["course"]
    prefs = await f.variable(gql, course["id"], "JSON", "preferences")
    learners = (await gql("{ learners { data { id } } }"))["learners"]["data"]
    long_a = {"theme": "dark", "language": "en", "notifications": True}
    long_b = {"theme": "dark", "language": "fr", "notifications": False}
    for learner, value in zip(learners, [long_a, long_a, long_b], strict=False):
        await f.set_value(gql, prefs["id"], learner["id"], value)
    await page.goto(f"/variables/{prefs['id']}")
    table = page.get_by_role("table", name="Distribution of current values of preferences")
    await table.wait_for()
    labels = sorted([await c.inner_text() for c in await table.locator("tbody tr td:first-child").all()])
    assert labels == sorted(
        [
            '{"theme":"dark","language":"en","notifications":true}',
            '{"theme":"dark","language":"fr","notifications":false}',
        ]
    )
    titles = await page.locator(".chart-canvas svg g title").evaluate_all("ts => ts.map(t => t.textContent)")
    assert sorted(titles) == labels  # the truncated tick keeps its full text as a tooltip


async def test_course_run_filter(page, signed_in):  # type: ignore[no-untyped-def]
    gql, course, score = signed_in["gql"], signed_in["course"], signed_in["score"]
    create_run = (
        'mutation($c: UUID!) { createCourseRun(input: {courseId: $c, name: "Spring"}) { ... on CourseRun { id } } }'
    )
    run = (await gql(create_run, {"c": course["id"]}))["createCourseRun"]
    learner = (await gql("{ learners(limit: 1) { data { id } } }"))["learners"]["data"][0]
    await f.set_value(gql, score["id"], learner["id"], 99, course_run_id=run["id"])
    await page.goto(f"/variables/{score['id']}")
    histogram = page.get_by_role("table", name="Histogram of current values of quiz_score")
    await histogram.wait_for()
    await page.get_by_label("Course run").select_option(label="Spring")
    await page.get_by_text("Learners with a value").first.wait_for()
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.chart .sr-only tbody tr td:nth-child(2)')]"
        ".reduce((s, td) => s + Number(td.textContent), 0) === 1"
    )


async def test_learners_are_all_reachable_by_paging(page, signed_in):  # type: ignore[no-untyped-def]
    gql = signed_in["gql"]
    for i in range(4, 23):
        await f.learner(gql, f"learner{i}@acme.example", f"Learner {i}")
    await page.get_by_role("link", name="Learners").click()
    await page.get_by_label("Per page").select_option("10")
    seen: list[str] = []
    for first, last in ((1, 10), (11, 20), (21, 23)):
        status = f"Learners {first}\N{EN DASH}{last}"
        await page.get_by_role("status").filter(has_text=status).wait_for()
        emails = await page.locator("tbody tr td:nth-child(2)").evaluate_all("tds => tds.map(td => td.textContent)")
        assert len(emails) == last - first + 1, (status, emails)
        seen += emails
        if last < 23:
            await page.get_by_role("button", name="Next page").click()
    assert await page.get_by_role("button", name="Next page").is_disabled()
    assert sorted(seen) == sorted(f"learner{i}@acme.example" for i in range(23))
    await page.get_by_role("button", name="Previous page").click()
    await page.get_by_text("Page 2", exact=True).wait_for()

    await page.get_by_label("Search by name or email").fill("LEARNER2")
    await page.keyboard.press("Enter")
    await page.get_by_role("status").filter(has_text="Learners 1\N{EN DASH}4").wait_for()  # learner2, learner20-22


async def test_a_learner_page_shows_courses_values_and_history(page, signed_in):  # type: ignore[no-untyped-def]
    gql, score = signed_in["gql"], signed_in["score"]
    learner = (await gql('{ learnerByEmail(email: "learner1@acme.example") { id } }'))["learnerByEmail"]
    await f.set_value(gql, score["id"], learner["id"], 75)
    await page.goto("/learners")
    await page.get_by_role("link", name="Learner 1", exact=True).click()
    await page.get_by_role("heading", name="Learner 1").wait_for()
    assert await page.get_by_role("link", name="Python Foundations").count() >= 1
    group = page.get_by_role("region", name="Course: Python Foundations")
    row = group.get_by_role("row").filter(has_text="quiz_score")
    assert "75" in await row.inner_text()
    await row.get_by_text("History of quiz_score").click()
    history = row.locator("ol.history li")
    await history.nth(1).wait_for()
    assert [t.split()[0] for t in await history.all_inner_texts()] == ["75", "70"]


async def test_a_rate_limited_first_load_keeps_the_header_and_retries(page, signed_in):  # type: ignore[no-untyped-def]
    refused = {"count": 0}

    async def limited(route) -> None:  # type: ignore[no-untyped-def]
        if refused["count"] < 1:  # the first request of the page: its organizations
            refused["count"] += 1
            body = '{"error": "rate_limited", "message": "Rate limit exceeded; retry in 2 seconds."}'
            await route.fulfill(status=429, headers={"Retry-After": "2"}, body=body, content_type="application/json")
        else:
            await route.continue_()

    await page.route("**/graphql", limited)
    await page.reload()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "retry in 2" in (await alert.inner_text()).lower()
    assert await page.get_by_role("button", name="Sign out").is_visible()
    for name in ("Dashboard", "Pipelines", "Learners", "API keys"):
        assert await page.get_by_role("navigation", name="Main").get_by_role("link", name=name).is_visible()
    retry = page.get_by_role("button", name="Retry")
    assert await page.get_by_role("button", name="Retry in").is_disabled()
    await retry.wait_for(timeout=5000)
    await retry.click()
    await page.get_by_role("link", name="Python Foundations").wait_for(timeout=10000)


async def test_the_header_stays_in_view_and_dark_mode_follows_the_system(page, signed_in):  # type: ignore[no-untyped-def]
    await page.goto(f"/variables/{signed_in['score']['id']}")
    await page.get_by_role("table", name="Histogram of current values of quiz_score").wait_for()
    await page.mouse.wheel(0, 2000)
    await page.wait_for_timeout(200)
    top = await page.locator("header.top").bounding_box()
    assert top is not None and top["y"] == 0
    light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    await page.emulate_media(color_scheme="dark")
    dark = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light == "rgb(255, 255, 255)" and dark == "rgb(13, 17, 23)"


async def test_keyboard_only_creates_a_key(page, signed_in):  # type: ignore[no-untyped-def]
    await page.goto("/settings/api-keys")
    await page.get_by_role("heading", name="API keys").wait_for()
    await no_horizontal_overflow(page)
    first = "document.querySelector('a[href], button, input, select').textContent"
    assert await page.evaluate(first) == "Skip to content"  # the first stop in tab order
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


async def test_every_page_passes_an_accessibility_scan(page, signed_in):  # type: ignore[no-untyped-def]
    gql, course, score = signed_in["gql"], signed_in["course"], signed_in["score"]
    learner = (await gql('{ learnerByEmail(email: "learner1@acme.example") { id } }'))["learnerByEmail"]
    pipeline = await f.pipeline(gql, "Scan pipeline")
    await f.node(gql, pipeline["id"], "COURSE", course["id"])
    pages = {
        "/": "Courses",
        f"/courses/{course['id']}": "Python Foundations",
        f"/variables/{score['id']}": "quiz_score",
        "/learners": "Learners",
        f"/learners/{learner['id']}": "Learner 1",
        "/pipelines": "Pipelines",
        f"/pipelines/{pipeline['id']}": "Scan pipeline",
        "/settings/api-keys": "API keys",
        "/settings/members": "Members",
        "/settings/audit-log": "Audit log",
    }
    found = {}
    for path, heading in pages.items():
        await page.goto(path)
        await page.get_by_role("heading", name=heading).first.wait_for()
        await page.wait_for_load_state("networkidle")
        found[path] = await serious_violations(page)
    await page.evaluate("localStorage.clear()")
    await page.goto("/login")
    await page.get_by_role("heading", name="Sign in to CoursePipeline").wait_for()
    found["/login"] = await serious_violations(page)
    assert {path: v for path, v in found.items() if v} == {}


async def test_every_learner_of_the_demo_is_reachable_by_paging(page, services, live_server, client):  # type: ignore[no-untyped-def]
    async with services.db.write() as conn:
        await load_demo(conn)
    await page.goto(await create_link(services.db, DEMO_EMAIL, live_server))
    await page.get_by_role("heading", name="Courses").wait_for()
    token = await page.evaluate("localStorage.getItem('cp_token')")
    listed = await client.get("/api/learners?limit=1000", headers={"Authorization": f"Bearer {token}"})
    everyone = sorted(learner["email"] for learner in listed.json()["data"])
    assert len(everyone) == 200

    await page.goto("/learners?size=50")
    seen: list[str] = []
    for number in range(1, 5):
        first, last = (number - 1) * 50 + 1, number * 50
        await page.get_by_role("status").filter(has_text=f"Learners {first}\N{EN DASH}{last}").wait_for()
        seen += await page.locator("tbody tr td:nth-child(2)").evaluate_all("tds => tds.map(td => td.textContent)")
        if number < 4:
            await page.get_by_role("button", name="Next page").click()
    assert await page.get_by_role("button", name="Next page").is_disabled()
    assert sorted(seen) == everyone


async def test_graphiql_passes_an_accessibility_scan(page, signed_in):  # type: ignore[no-untyped-def]
    await page.goto("/graphql")
    await page.get_by_text("Signed in: requests use your session").wait_for()
    await page.wait_for_load_state("networkidle")
    assert await serious_violations(page) == []


async def test_invite_a_member_change_a_role_and_read_the_audit_log(page, signed_in, services):  # type: ignore[no-untyped-def]
    await page.get_by_role("link", name="Members").click()
    await page.get_by_label("Email").fill("colleague@acme.example")
    await page.get_by_label("Role", exact=True).select_option("ADMIN")
    await page.get_by_role("button", name="Invite").click()
    link = (await page.locator("#invite-link").inner_text()).strip()
    assert link.startswith(page.url.split("/settings")[0] + "/login/link?code=")
    await page.get_by_role("table", name="Pending invitations").get_by_text("colleague@acme.example").wait_for()

    # The invitee opens the link in a browser of their own and arrives as an admin.
    invitee = await page.context.browser.new_context(base_url=page.url.split("/settings")[0])
    theirs = await invitee.new_page()
    await theirs.goto(link)
    await theirs.get_by_role("heading", name="Courses").wait_for()
    assert "Acme Learning" in await theirs.inner_text("header")
    await invitee.close()

    await page.reload()
    role = page.get_by_label("Role of colleague@acme.example")
    await role.select_option("MEMBER")
    await page.get_by_role("status").filter(has_text="colleague@acme.example is now member.").wait_for()
    await page.get_by_role("link", name="Audit log").click()
    table = page.get_by_role("table", name="Audit log")
    await table.wait_for()
    actions = await table.locator("tbody tr td:nth-child(3)").evaluate_all("tds => tds.map(td => td.textContent)")
    assert actions[:3] == ["member.role_changed", "member.joined", "member.invited"]


async def test_roll_a_key_and_see_its_usage(page, signed_in, live_server):  # type: ignore[no-untyped-def]
    tenant = signed_in["tenant"]
    async with httpx.AsyncClient(base_url=live_server) as api:
        for _ in range(3):
            assert (await api.get("/api/courses", headers=tenant.key_headers)).status_code == 200
        await page.goto("/settings/api-keys")
        await page.get_by_role("button", name="Usage of test").click()
        chart = page.get_by_role("table", name="Requests per day with test")
        await chart.wait_for()
        counts = await chart.locator("tbody tr td:nth-child(2)").evaluate_all("tds => tds.map(td => +td.textContent)")
        assert len(counts) == 30 and counts[-1] >= 3  # today's requests (the fixture's own calls count too)

        await page.get_by_role("button", name="Roll test").click()
        await page.get_by_role("dialog").get_by_role("button", name="Old key stops right away").click()
        secret = (await page.locator("#new-key").inner_text()).strip()
        assert secret.startswith("cp_") and secret != tenant.key
        assert (await api.get("/api/courses", headers={"X-API-Key": secret})).status_code == 200
        assert (await api.get("/api/courses", headers=tenant.key_headers)).status_code == 401


async def test_an_invitation_from_another_organization_is_joined_on_purpose(page, signed_in, services, client):  # type: ignore[no-untyped-def]
    other = await make_tenant(services, "Globex Training")
    invite = 'mutation { inviteMember(input: {email: "admin@acme.example", role: ADMIN}) { __typename } }'
    assert (await client.post("/graphql", json={"query": invite}, headers=other.user_headers)).status_code == 200
    await page.reload()
    await page.get_by_text("Globex Training invited you as admin").wait_for()
    assert await page.get_by_label("Organization").count() == 0  # not joined by signing in
    await page.get_by_role("button", name="Join Globex Training").click()
    switcher = page.get_by_label("Organization")
    await switcher.wait_for()
    assert await switcher.evaluate("s => s.options[s.selectedIndex].text") == "Globex Training"
    await page.get_by_text("No courses yet").wait_for()
    assert await page.get_by_text("invited you").count() == 0
