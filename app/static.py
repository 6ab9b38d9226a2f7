"""Browser assets served by the app itself, so GraphiQL and Swagger UI work with no internet access.

GraphiQL and React come from `web/node_modules` (npm, locked, installed by `make install`); Swagger UI from the
`swagger-ui-bundle` package. Nothing third-party is copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle  # type: ignore[import-untyped]  # the package ships no type information
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

NODE_MODULES = Path(__file__).resolve().parent.parent / "web" / "node_modules"
GRAPHIQL_FILES = {
    "react.js": NODE_MODULES / "react/umd/react.production.min.js",
    "react-dom.js": NODE_MODULES / "react-dom/umd/react-dom.production.min.js",
    "graphiql.js": NODE_MODULES / "graphiql/graphiql.min.js",
    "graphiql.css": NODE_MODULES / "graphiql/graphiql.min.css",
}
SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)


def graphiql_html() -> str:
    return """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CoursePipeline GraphiQL</title>
  <link rel="stylesheet" href="/static/graphiql/graphiql.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/static/graphiql/react.js"></script>
  <script src="/static/graphiql/react-dom.js"></script>
  <script src="/static/graphiql/graphiql.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: "/graphql" });
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultEditorToolsVisibility: "headers",
        headers: JSON.stringify({ Authorization: "Bearer YOUR_API_KEY" }, null, 2),
        defaultQuery: [
          "# Put your API key in the Headers tab below, then run:",
          "{ courses(limit: 5) { data { id name stats { enrolledLearners valuesRecorded } } } }",
        ].join("\\n"),
      }),
    );
  </script>
</body>
</html>"""


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


async def graphiql_asset(request) -> Response:
    path = GRAPHIQL_FILES.get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("not found", status_code=404)
    if not path.is_file():
        return PlainTextResponse("GraphiQL assets are not installed: run `make install`.", status_code=503)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


async def swagger_page(request) -> Response:
    return HTMLResponse(swagger_html())


def routes() -> list[Route | Mount]:
    return [
        Route("/static/graphiql/{name}", graphiql_asset),
        Route("/api/docs", swagger_page),
        Mount("/api/docs/static", StaticFiles(directory=SWAGGER_DIR), name="swagger"),
    ]
