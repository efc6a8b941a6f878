"""What `create_app` serves besides channels and the API: here, the API docs pages."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_api_docs_pages_load_their_assets_from_the_server(
    client: httpx.AsyncClient, page: str
) -> None:
    html = await client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html.text)
    assert any(a.endswith(".js") for a in assets)
    assert not [a for a in assets if a.startswith(("http://", "https://", "//"))], assets
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    assert "/openapi.json" in html.text
