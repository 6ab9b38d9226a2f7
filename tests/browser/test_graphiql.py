"""GraphiQL at first touch: the schema loads with no typing when signed in, and after pasting a key once otherwise."""

from __future__ import annotations

import orjson

from access.login_links import create_link
from tests import factories as f
from tests.conftest import GQL, make_tenant


def is_introspection(response) -> bool:  # type: ignore[no-untyped-def]
    request = response.request
    return request.method == "POST" and response.url.endswith("/graphql") and "__schema" in (request.post_data or "")


async def execute(page):  # type: ignore[no-untyped-def]
    """Runs the editor's query with GraphiQL's button and answers the response."""

    def is_query(r) -> bool:  # type: ignore[no-untyped-def]
        return r.url.endswith("/graphql") and "courses" in (r.request.post_data or "")

    async with page.expect_response(is_query) as run:
        await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    return await run.value


async def test_signed_in_graphiql_loads_the_schema_with_the_session(page, services, live_server, client):  # type: ignore[no-untyped-def]
    tenant = await make_tenant(services, "GraphiQL Org", "dev@acme.example")
    await f.course(GQL(client, tenant.key_headers), "Schema course")
    await page.goto(await create_link(services.db, tenant.email, live_server))
    await page.get_by_role("heading", name="Courses").wait_for()
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/graphql") else None)

    async with page.expect_response(is_introspection) as introspection:
        await page.goto("/graphql")
    answer = await introspection.value
    assert answer.status == 200
    assert "Query" in {t["name"] for t in orjson.loads(await answer.body())["data"]["__schema"]["types"]}
    assert (await answer.request.all_headers())["authorization"].startswith("Bearer eyJ")
    await page.get_by_text("Signed in: requests use your session").wait_for()

    # The explorer plugin is there, and a query runs with the same credential.
    assert await page.get_by_role("button", name="Show GraphiQL Explorer").count() == 1
    answer = await execute(page)
    assert answer.status == 200 and "Schema course" in (await answer.text())
    assert 401 not in statuses


async def test_a_pasted_key_is_used_for_introspection_and_every_request(page, services, client):  # type: ignore[no-untyped-def]
    tenant = await make_tenant(services, "Key Org")
    await f.course(GQL(client, tenant.key_headers), "Key course")
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/graphql") else None)
    await page.goto("/graphql")
    field = page.get_by_label("API key (sent as Authorization: Bearer on every request)")
    await field.fill(tenant.key)
    async with page.expect_response(is_introspection) as introspection:
        await page.get_by_role("button", name="Use key").click()
    answer = await introspection.value
    assert answer.status == 200 and (await answer.request.all_headers())["authorization"] == f"Bearer {tenant.key}"
    ran = await execute(page)
    assert ran.status == 200 and "Key course" in (await ran.text())
    assert (await ran.request.all_headers())["authorization"] == f"Bearer {tenant.key}"

    await page.reload()  # the key stays for this tab: no pasting again, and no placeholder anywhere
    await page.get_by_text("Using the API key").wait_for()
    assert "YOUR_API_KEY" not in await page.content()
    assert statuses and set(statuses) == {200}
