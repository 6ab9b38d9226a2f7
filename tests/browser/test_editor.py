"""The pipeline editor, driven as a person would: with the mouse, the keyboard and the names a screen reader reads."""

from __future__ import annotations

from typing import Any

import pytest

from access.login_links import create_link
from tests import factories as f
from tests.conftest import GQL, make_tenant


@pytest.fixture
async def world(page, services, live_server, client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    tenant = await make_tenant(services, "Editor Org", "editor@acme.example")
    gql = GQL(client, tenant.key_headers)
    intro = await f.course(gql, "Intro Course")
    tutor = await f.chatbot(gql, "Tutor Bot")
    advanced = await f.course(gql, "Advanced Course")
    v = {
        "score": await f.variable(gql, intro["id"], "NUMBER", "quiz_score", direction="OUTPUT"),
        "heard": await f.variable(gql, None, "NUMBER", "heard_score", chatbotId=tutor["id"], direction="INPUT"),
        "level": await f.variable(gql, None, "TEXT", "level", chatbotId=tutor["id"], direction="OUTPUT"),
        "ready": await f.variable(gql, advanced["id"], "BOOLEAN", "ready", direction="INPUT"),
        "prior": await f.variable(gql, advanced["id"], "TEXT", "prior_level", direction="INPUT"),
    }
    await page.goto(await create_link(services.db, tenant.email, live_server))
    await page.get_by_role("heading", name="Courses").wait_for()
    return {"tenant": tenant, "gql": gql, "client": client, "vars": v}


async def pipeline_state(world: dict[str, Any], pipeline_id: str) -> dict[str, Any]:
    answer = await world["client"].get(f"/api/pipelines/{pipeline_id}", headers=world["tenant"].key_headers)
    assert answer.status_code == 200
    return answer.json()


async def drag(page, source, target) -> None:  # type: ignore[no-untyped-def]
    """Press on one handle, move in steps (as a hand does), release on the other. The canvas is scrolled to just
    below the sticky header first, so that neither handle lies under it."""
    top = await page.locator("header.top").evaluate("e => e.getBoundingClientRect().height")
    await page.locator(".canvas").evaluate(
        "(e, top) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - top - 8)", top
    )
    a, b = await source.bounding_box(), await target.bounding_box()
    assert a is not None and b is not None
    await page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    await page.mouse.up()


async def test_build_a_pipeline_by_dragging(page, world):  # type: ignore[no-untyped-def]
    v = world["vars"]
    await page.get_by_role("link", name="Pipelines").click()
    await page.get_by_label("Name", exact=True).fill("Onboarding flow")
    await page.get_by_role("button", name="Create pipeline").click()
    await page.get_by_role("heading", name="Onboarding flow").wait_for()
    pipeline_id = page.url.rsplit("/", 1)[1]

    for component in ("Intro Course", "Tutor Bot", "Advanced Course"):
        await page.get_by_label("Course or chatbot").select_option(label=component)
        await page.get_by_role("button", name="Add component").click()
        await page.get_by_role("group", name=component, exact=True).wait_for()
    # Side by side, so that every handle is on screen at either size.
    await page.get_by_role("button", name="Auto-arrange").click()
    await page.get_by_text("Arranged and saved.").wait_for()
    await page.get_by_role("button", name="Fit View").click()

    output, target = (
        page.get_by_role("button", name="output quiz_score"),
        page.get_by_role("button", name="input heard_score"),
    )
    await drag(page, output, target)
    await page.get_by_text("Connected Intro Course.quiz_score to Tutor Bot.heard_score").wait_for()
    state = await pipeline_state(world, pipeline_id)
    assert [(c["source_variable_id"], c["target_variable_id"]) for c in state["connections"]] == [
        (v["score"]["id"], v["heard"]["id"])
    ]
    assert {n["component_id"] for n in state["nodes"]} == set(await _components(world))

    # A refusal is shown on the component where it happened, and nothing changes.
    await drag(page, page.get_by_role("button", name="output level"), page.get_by_role("button", name="input ready"))
    refusal = page.get_by_role("group", name="Advanced Course", exact=True).get_by_role("alert")
    await refusal.wait_for()
    assert "Not connected" in await refusal.inner_text()
    assert len((await pipeline_state(world, pipeline_id))["connections"]) == 1

    # Select the connection and press Delete.
    edge = page.get_by_role("group", name="connection from Intro Course.quiz_score to Tutor Bot.heard_score")
    await edge.focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Delete")
    await page.get_by_text("Removed 1 connection(s).").wait_for()
    assert (await pipeline_state(world, pipeline_id))["connections"] == []


async def _components(world: dict[str, Any]) -> list[str]:
    client, headers = world["client"], world["tenant"].key_headers
    courses = (await client.get("/api/courses", headers=headers)).json()["data"]
    bots = (await client.get("/api/chatbots", headers=headers)).json()["data"]
    return [c["id"] for c in courses + bots]


async def test_positions_are_saved_and_names_are_accessible(page, world):  # type: ignore[no-untyped-def]
    gql, v = world["gql"], world["vars"]
    courses = {c["name"]: c["id"] for c in (await gql("{ courses { data { id name } } }"))["courses"]["data"]}
    bot = (await gql("{ chatbots { data { id } } }"))["chatbots"]["data"][0]["id"]
    pipeline = await f.pipeline(gql, "Saved layout")
    for kind, component in (
        ("COURSE", courses["Intro Course"]),
        ("CHATBOT", bot),
        ("COURSE", courses["Advanced Course"]),
    ):
        await f.node(gql, pipeline["id"], kind, component)
    await f.connect(gql, pipeline["id"], v["level"]["id"], v["prior"]["id"])
    await page.goto(f"/pipelines/{pipeline['id']}")
    for name in ("Intro Course", "Tutor Bot", "Advanced Course"):
        await page.get_by_role("group", name=name, exact=True).wait_for()
    for handle in ("output quiz_score", "input heard_score", "output level", "input ready", "input prior_level"):
        assert await page.get_by_role("button", name=handle, exact=True).count() == 1
    before = {n["id"]: (n["x"], n["y"]) for n in (await pipeline_state(world, pipeline["id"]))["nodes"]}
    assert set(before.values()) == {(0, 0)}  # all stacked until arranged
    await page.get_by_role("button", name="Auto-arrange").click()
    await page.get_by_text("Arranged and saved.").wait_for()
    after = {n["id"]: (n["x"], n["y"]) for n in (await pipeline_state(world, pipeline["id"]))["nodes"]}
    assert len(set(after.values())) == 3  # every node has a place of its own, saved
    # React Flow draws edges once it has measured the nodes: wait for it, then there must be exactly one. Looked for
    # once the nodes are arranged: while all three were stacked at one place, a phone-size run sometimes never drew
    # the edge at all (the editor's stacking at (0, 0) is issue 39's to fix).
    await page.get_by_role("button", name="Fit View").click()
    edge = page.get_by_role("group", name="connection from Tutor Bot.level to Advanced Course.prior_level")
    await edge.wait_for(state="attached")
    assert await edge.count() == 1

    # A node dragged by hand keeps its new place after a reload.
    title = page.get_by_role("group", name="Intro Course", exact=True).locator(".component-title strong")
    box = await title.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + 5, box["y"] + 5)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 45, box["y"] + 65, steps=8)
    await page.mouse.up()
    intro = next(
        n
        for n in (await pipeline_state(world, pipeline["id"]))["nodes"]
        if n["component_id"] == courses["Intro Course"]
    )
    for _ in range(20):
        moved = next(n for n in (await pipeline_state(world, pipeline["id"]))["nodes"] if n["id"] == intro["id"])
        if (moved["x"], moved["y"]) != after[intro["id"]]:
            break
        await page.wait_for_timeout(100)
    assert (moved["x"], moved["y"]) != after[intro["id"]]


async def test_rename_pause_and_remove_a_component(page, world):  # type: ignore[no-untyped-def]
    gql, v = world["gql"], world["vars"]
    courses = {c["name"]: c["id"] for c in (await gql("{ courses { data { id name } } }"))["courses"]["data"]}
    bot = (await gql("{ chatbots { data { id } } }"))["chatbots"]["data"][0]["id"]
    pipeline = await f.pipeline(gql, "To rename")
    await f.node(gql, pipeline["id"], "COURSE", courses["Intro Course"])
    await f.node(gql, pipeline["id"], "CHATBOT", bot)
    await f.connect(gql, pipeline["id"], v["score"]["id"], v["heard"]["id"])
    await page.goto(f"/pipelines/{pipeline['id']}")
    await page.get_by_label("Pipeline name").fill("Renamed flow")
    await page.get_by_role("button", name="Rename").click()
    await page.get_by_role("heading", name="Renamed flow").wait_for()
    await page.get_by_label("Active").uncheck()
    await page.get_by_text("The pipeline is paused.").wait_for()
    state = await pipeline_state(world, pipeline["id"])
    assert state["name"] == "Renamed flow" and state["active"] is False

    await page.get_by_role("button", name="Remove Tutor Bot").click()
    await page.get_by_text("Removed Tutor Bot and its connections.").wait_for()
    state = await pipeline_state(world, pipeline["id"])
    assert len(state["nodes"]) == 1 and state["connections"] == []
