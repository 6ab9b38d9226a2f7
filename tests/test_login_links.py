"""Embedded-mode sign-in links: one use, fifteen minutes, stored only as a hash."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from access.keys import hash_key
from access.login_links import create_link
from app.services import Services
from app.web import PAGES
from db.queries.login_links import login_links
from db.types import utcnow
from tests.conftest import app_client


async def test_a_link_signs_in_once_and_stores_only_a_hash(services: Services):
    url = await create_link(services.db, "me@example.com", "http://t")
    code = url.split("code=")[1]
    async with services.db.read() as conn:
        stored = (await conn.execute(select(login_links))).mappings().one()
    assert stored["code_hash"] == hash_key(code) and code not in str(dict(stored))
    async with app_client() as (client, _own):
        first = await client.get(f"/login/link?code={code}")
        assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
        token = re.search(r"localStorage.setItem\('cp_token', \"([\w.-]+)\"\)", first.text).group(1)  # type: ignore[union-attr]
        who = await client.post("/graphql", json={"query": "{ organizations { id } }"},
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert who.status_code == 200 and who.json()["data"] == {"organizations": []}
        second = await client.get(f"/login/link?code={code}")
        assert second.status_code == 400 and "already used" in second.text
        assert (await client.get("/login/link?code=made-up")).status_code == 400


async def test_a_link_expires_after_fifteen_minutes(services: Services):
    url = await create_link(services.db, "late@example.com", "http://t")
    async with services.db.write() as conn:
        await conn.execute(update(login_links).values(expires_at=utcnow() - timedelta(seconds=1)))
    async with app_client() as (client, _own):
        assert (await client.get(url.replace("http://t", ""))).status_code == 400


async def test_links_are_off_when_supabase_signs_people_in(services: Services):
    url = await create_link(services.db, "me@example.com", "http://t")
    async with app_client(supabase_url="https://project.supabase.co", supabase_anon_key="anon") as (client, _own):
        assert (await client.get(url.replace("http://t", ""))).status_code == 404
        page = await client.get("/login")
        assert '"mode":"supabase"' in page.text and '"supabaseAnonKey":"anon"' in page.text


async def test_every_page_serves_the_app_shell(client: httpx.AsyncClient):
    shells = set()
    for path in PAGES:
        response = await client.get(path.replace("{", "").replace("}", ""))
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
        shells.add(response.text)
    (shell,) = shells  # one shell; the app's router draws the page
    assets = re.findall(r'(?:src|href)="(/ui/assets/[^"]+)"', shell)
    assert len(assets) == 2  # the built script and its stylesheet, whatever their hashed names
    for asset in assets:
        assert (await client.get(asset)).status_code == 200
