"""The web UI's routes: the single-page app's shell, its own static files, and embedded-mode sign-in links.

The UI talks only to `/graphql`, with the signed-in user's token. Its code lives in `web/src` (React, built by Vite
into `web/dist` at set-up, `app/bundle.py`); every page path below answers the same shell and the app's router
draws the page.
"""

from __future__ import annotations

import html

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from access.login_links import redeem
from access.tokens import mint_local_token
from app.bundle import DIST, built, shell
from app.services import Services
from app.settings import embedded_jwt_secret

PAGES = (
    "/",
    "/login",
    "/learners",
    "/learners/{learner_id}",
    "/pipelines",
    "/pipelines/{pipeline_id}",
    "/settings/api-keys",
    "/settings/members",
    "/settings/audit-log",
    "/courses/{course_id}",
    "/chatbots/{chatbot_id}",
    "/variables/{variable_id}",
)


def _ui_config(services: Services) -> dict[str, str | None]:
    settings = services.settings
    supabase = settings.supabase_url is not None and settings.supabase_anon_key is not None
    return {
        "mode": "supabase" if supabase else "local",
        "supabaseUrl": settings.supabase_url if supabase else None,
        "supabaseAnonKey": settings.supabase_anon_key if supabase else None,
    }


def _shell(services: Services, extra: str = "") -> str:
    config = orjson.dumps(_ui_config(services)).decode().replace("</", "<\\/")
    return shell(built().get("app"), "CoursePipeline", f"window.COURSEPIPELINE = {config};{extra}")


async def page(request: Request) -> Response:
    return HTMLResponse(_shell(request.app.state.services), headers={"Cache-Control": "no-store"})


async def login_link(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.supabase_url is not None:
        return HTMLResponse("<p>Sign-in links are for embedded mode; sign in with Supabase.</p>", status_code=404)
    redeemed = await redeem(services.db, request.query_params.get("code", ""))
    if redeemed is None:
        message = "This sign-in link has expired or was already used. Ask for a new one: coursepipeline login-link"
        return HTMLResponse(
            f'<!doctype html><html lang="en"><title>Sign-in link</title><p role="alert">{html.escape(message)}</p>'
            '<p><a href="/login">Back to sign-in</a></p></html>',
            status_code=400,
        )
    token = mint_local_token(embedded_jwt_secret(services.settings), redeemed.email)
    store = f"localStorage.setItem('cp_token', {orjson.dumps(token).decode()});"
    if redeemed.joined is not None:  # an invitation's link: the UI opens in the organization it joined
        store += f"localStorage.setItem('cp_org', {orjson.dumps(str(redeemed.joined)).decode()});"
    store += "history.replaceState(null, '', '/');"
    # The token never appears in a URL: it is handed to the page once and kept in the browser's storage.
    return HTMLResponse(_shell(services, store), headers={"Cache-Control": "no-store"})


def routes() -> list[Route | Mount]:
    return [
        *(Route(path, page) for path in PAGES),
        Route("/login/link", login_link),
        Mount("/ui", StaticFiles(directory=DIST, check_dir=False), name="ui"),
    ]
