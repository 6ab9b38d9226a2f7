"""Browser assets served by the app itself, so GraphiQL and Swagger UI work with no internet access.

GraphiQL is one of the web UI's Vite entries (`app/bundle.py`); Swagger UI comes from the `swagger-ui-bundle`
package. Nothing third-party is copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle  # type: ignore[import-untyped]  # the package ships no type information
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.bundle import built, shell

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)


def graphiql_html() -> str:
    return shell(built().get("graphiql"), "CoursePipeline GraphiQL")


def swagger_html() -> str:
    return """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CoursePipeline API docs</title>
  <link rel="stylesheet" href="/api/docs/static/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/static/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/api/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      tryItOutEnabled: true,
    });
  </script>
</body>
</html>"""


async def swagger_page(request) -> Response:
    return HTMLResponse(swagger_html())


def routes() -> list[Route | Mount]:
    return [
        Route("/api/docs", swagger_page),
        Mount("/api/docs/static", StaticFiles(directory=SWAGGER_DIR), name="swagger"),
    ]
