"""The web UI's routes: the single-page app's shell, its own static files, and embedded-mode sign-in links.

The UI talks only to `/graphql`, with the signed-in user's token. Its code lives in `app/web/`; the libraries it
needs (supabase-js, for production sign-in) come from `web/node_modules`, installed at set-up.
"""

from __future__ import annotations

import html
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from access.login_links import redeem
from access.tokens import mint_local_token
from app.services import Services
from app.settings import embedded_jwt_secret
from app.static import NODE_MODULES

UI_DIR = Path(__file__).parent / "web"
SUPABASE_JS = NODE_MODULES / "@supabase/supabase-js/dist/umd/supabase.js"
PAGES = ("/", "/login", "/learners", "/settings/api-keys", "/courses/{course_id}", "/variables/{variable_id}")


def _ui_config(services: Services) -> dict[str, str | None]:
    settings = services.settings
    supabase = settings.supabase_url is not None and settings.supabase_anon_key is not None
    return {
        "mode": "supabase" if supabase else "local",
        "supabaseUrl": settings.supabase_url if supabase else None,
        "supabaseAnonKey": settings.supabase_anon_key if supabase else None,
    }


def _shell(services: Services, body_script: str = "") -> str:
    config = orjson.dumps(_ui_config(services)).decode().replace("</", "<\\/")
    supabase = '<script src="/ui/vendor/supabase.js"></script>' if _ui_config(services)["mode"] == "supabase" else ""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CoursePipeline</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/ui/app.css">
</head>
<body>
  <a class="skip" href="#main">Skip to content</a>
  <header class="top" id="top"></header>
  <main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
  <div id="toast" role="status" aria-live="polite"></div>
  <script>window.COURSEPIPELINE = {config};{body_script}</script>
  {supabase}
  <script src="/ui/app.js"></script>
</body>
</html>"""


async def page(request: Request) -> Response:
    return HTMLResponse(_shell(request.app.state.services), headers={"Cache-Control": "no-store"})


async def login_link(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.supabase_url is not None:
        return HTMLResponse("<p>Sign-in links are for embedded mode; sign in with Supabase.</p>", status_code=404)
    email = await redeem(services.db, request.query_params.get("code", ""))
    if email is None:
        message = "This sign-in link has expired or was already used. Ask for a new one: coursepipeline login-link"
        return HTMLResponse(
            f'<!doctype html><html lang="en"><title>Sign-in link</title><p role="alert">{html.escape(message)}</p>'
            '<p><a href="/login">Back to sign-in</a></p></html>',
            status_code=400,
        )
    token = mint_local_token(embedded_jwt_secret(services.settings), email)
    store = f"localStorage.setItem('cp_token', {orjson.dumps(token).decode()});history.replaceState(null, '', '/');"
    # The token never appears in a URL: it is handed to the page once and kept in the browser's storage.
    return HTMLResponse(
        _shell(services, store), headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


async def supabase_js(request: Request) -> Response:
    if not SUPABASE_JS.is_file():
        return PlainTextResponse("supabase-js is not installed: run `make install`.", status_code=503)
    return FileResponse(SUPABASE_JS)


def routes() -> list[Route | Mount]:
    return [
        *(Route(path, page) for path in PAGES),
        Route("/login/link", login_link),
        Route("/ui/vendor/supabase.js", supabase_js),
        Mount("/ui", StaticFiles(directory=UI_DIR), name="ui"),
    ]
