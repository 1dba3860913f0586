"""/docs and /redoc load their assets from the app, not a CDN (issue 7, #21)."""

from __future__ import annotations

import re

import httpx
import pytest

from api.app import create_app
from core.settings import Settings


@pytest.fixture
async def http(tmp_path) -> httpx.AsyncClient:
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://platform"
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("page", "kinds"),
    [("/docs", {"javascript", "css"}), ("/redoc", {"javascript"})],
)
async def test_docs_pages_use_only_local_assets(
    http: httpx.AsyncClient, page: str, kinds: set[str]
) -> None:
    response = await http.get(page)
    assert response.status_code == 200
    html = response.text
    assert "//" not in re.sub(r"https?://(127\.0\.0\.1|localhost)|//\s.*", "", html), html
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets, html
    seen = set()
    for url in assets:
        assert url.startswith("/"), url
        asset = await http.get(url)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"]
        seen |= {k for k in ("javascript", "css") if k in kind}
    assert kinds <= seen
