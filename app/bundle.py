"""The browser code built by Vite (`web/`, built into `web/dist` by `make install`): where each entry's script and
stylesheets are, read from Vite's manifest, and the page shell that loads them.

The shell is written here rather than by Vite so that each page carries its settings and nothing else differs.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson

WEB = Path(__file__).resolve().parent.parent / "web"
DIST = WEB / "dist"
BASE = "/ui/"


@dataclass(frozen=True)
class Entry:
    script: str
    styles: tuple[str, ...]


def entries(dist: Path = DIST) -> dict[str, Entry] | None:
    """The built entries by name (`app`, `graphiql`), or None when the UI has not been built."""
    manifest = dist / ".vite" / "manifest.json"
    if not manifest.is_file():
        return None
    chunks: dict[str, dict] = orjson.loads(manifest.read_bytes())
    found = {}
    for chunk in chunks.values():
        if chunk.get("isEntry"):
            found[chunk["name"]] = Entry(BASE + chunk["file"], tuple(BASE + css for css in chunk.get("css", ())))
    return found


@cache
def built() -> dict[str, Entry]:
    """The entries of the build this process started with (empty when there is none); read once."""
    return entries() or {}


def shell(entry: Entry | None, title: str, head_script: str = "") -> str:
    """An HTML page that runs one entry. `head_script` is trusted code of ours (settings), run before it."""
    if entry is None:
        return (
            f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<p role="alert">The web UI has not been built: run <code>make install</code>.</p></html>'
        )
    styles = "".join(f'\n  <link rel="stylesheet" href="{css}">' for css in entry.styles)
    script = f"\n  <script>{head_script}</script>" if head_script else ""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{html.escape(title)}</title>
  <link rel="icon" href="data:,">{styles}{script}
  <script type="module" src="{entry.script}"></script>
</head>
<body>
  <div id="root"></div>
</body>
</html>"""
