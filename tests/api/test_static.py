"""The dashboard's files: index at /, caching headers, no listing, nothing outside www/ and no hidden files."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from yarl import URL

from tests.api.apitools import Api


def _www(api: Api) -> Path:
    from hub.api.static import WWW_DIR

    return api.app[WWW_DIR]


async def test_index_assets_and_caching(api: Api) -> None:
    www = _www(api)
    (www / "index.html").write_text("<h1>hub</h1>")
    (www / "app.js").write_text("console.log(1)")
    (www / "sub").mkdir()
    response = await api.session.get(api.url + "/")  # no token needed for the dashboard itself
    assert response.status == 200
    assert await response.text() == "<h1>hub</h1>"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.content_type == "text/html"
    response = await api.session.get(api.url + "/app.js")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    response = await api.session.get(api.url + "/app.js", headers={"If-None-Match": etag})
    assert response.status == 304
    assert (await api.session.get(api.url + "/sub/")).status == 404  # a directory is never listed
    assert (await api.session.get(api.url + "/sub")).status == 404
    assert (await api.session.get(api.url + "/missing.css")).status == 404


async def test_no_path_escapes(api: Api, tmp_path: Path) -> None:
    www = _www(api)
    (www / ".env").write_text("SECRET=1")
    (tmp_path / "outside.txt").write_text("secret")
    for raw in ("/../outside.txt", "/%2e%2e/outside.txt", "/sub/..%2f..%2foutside.txt", "/.env", "//etc/passwd"):
        response = await api.session.get(URL(api.url + raw, encoded=True))
        assert response.status == 404, raw
        assert "secret" not in (await response.text()).lower()


async def test_missing_www_dir_answers_404(api: Api) -> None:
    for path in _www(api).iterdir():
        path.unlink()
    _www(api).rmdir()
    response = await api.session.get(api.url + "/")
    assert response.status == 404
    assert isinstance(response, aiohttp.ClientResponse)
