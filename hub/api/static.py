"""The dashboard's static files from `www/`: index.html at `/`, caching headers, no listings, no path escapes."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import Final

from aiohttp import web

__all__ = ["DEFAULT_WWW_DIR", "WWW_DIR", "add_static_routes"]

DEFAULT_WWW_DIR: Final = Path(__file__).resolve().parents[1] / "www"
"""The dashboard shipped in the `hub` package: `hub/www` links to the repository's `www/`, and a wheel holds a copy."""

WWW_DIR = web.AppKey("www_dir", Path)

_INDEX: Final = "index.html"
_SERVICE_WORKER: Final = "sw.js"
mimetypes.add_type("application/manifest+json", ".webmanifest")  # the PWA manifest; Python 3.11 knows no type
# The dashboard has no build step and so no hashed file names: HTML is always revalidated, assets soon.
_CACHE_HTML: Final = "no-cache"
_CACHE_ASSET: Final = "public, max-age=300"


def _locate(root: Path, relative: str) -> Path | None:
    """The file `relative` names inside `root`, or None: outside it, hidden, a directory or missing."""
    if not relative or relative.endswith("/"):
        relative += _INDEX
    parts = Path(relative).parts
    if any(part.startswith(".") for part in parts):
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


async def _serve(request: web.Request) -> web.StreamResponse:
    path = await asyncio.to_thread(_locate, request.app[WWW_DIR], request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    response = web.FileResponse(path)
    # HTML and the service worker are always revalidated (a new dashboard shows at once), other files soon.
    fresh = path.suffix == ".html" or path.name == _SERVICE_WORKER
    response.headers["Cache-Control"] = _CACHE_HTML if fresh else _CACHE_ASSET
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def add_static_routes(app: web.Application, www_dir: Path) -> None:
    """Serve `www_dir` for every path no other route took; register it last."""
    app[WWW_DIR] = www_dir.resolve()
    # Not under /api/: a catch-all GET there would answer 404 instead of 405 to a wrong method on a POST-only
    # endpoint and put GET into its Allow header (found by schemathesis, tests/chaos/test_fuzz_openapi.py).
    app.router.add_get("/{path:(?!api/).*}", _serve)
