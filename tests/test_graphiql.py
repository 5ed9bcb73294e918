"""GraphiQL in a browser with no internet access: every byte it loads comes from us.

The real assets are installed by `make node-deps` (`python -m api.graphiql_assets`): the
tests that need them fail, not skip, when they are absent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

import api.graphiql
from api.graphiql import ASSETS, STATIC_DIR, STATIC_URL, assets_present

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ROOT = Path(__file__).resolve().parent.parent
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")


@pytest.fixture
def installed() -> None:
    if not assets_present():
        pytest.fail("GraphiQL assets are not installed: run `make node-deps` (or make graphiql)")


async def _page(client: httpx.AsyncClient) -> httpx.Response:
    response = await client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response


def _references(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_the_graphiql_page_loads_nothing_from_the_internet(
    client: httpx.AsyncClient, installed: None
) -> None:
    response = await _page(client)
    assert "GraphiQL" in response.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]", response.text, re.IGNORECASE)
    # The browser itself refuses any other origin, so a stray CDN URL cannot slip in.
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "http" not in policy


async def test_every_asset_the_page_references_is_served_from_the_installed_files(
    client: httpx.AsyncClient, installed: None
) -> None:
    references = _references((await _page(client)).text)
    assert sorted(references) == sorted(f"{STATIC_URL}/{name}" for name in ASSETS)
    for url in references:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content == (STATIC_DIR / url.rsplit("/", 1)[1]).read_bytes(), url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in asset.headers["content-type"], url


async def test_the_inline_boot_script_is_allowed_by_the_page_policy(
    client: httpx.AsyncClient, installed: None
) -> None:
    # A browser runs an inline script only if its hash is in script-src: a stale hash
    # would leave a blank page that no other test notices.
    response = await _page(client)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["content-security-policy"]
    assert "GraphiQL.createFetcher" in inline[0]


async def test_without_assets_the_page_explains_make_graphiql_and_the_api_still_works(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(api.graphiql, "STATIC_DIR", tmp_path)
    page = (await _page(client)).text
    assert "make graphiql" in page
    assert "<script" not in page
    assert not re.search(r"https?://", page)

    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_browser_get_with_a_query_runs_it_instead_of_serving_graphiql(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": BROWSER_ACCEPT}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("package_dir", ["graphiql", "tests/audit"])
def test_npm_dependencies_are_pinned_to_exact_versions_with_a_lock_file(
    package_dir: str,
) -> None:
    manifest = json.loads((ROOT / package_dir / "package.json").read_text())
    lock = json.loads((ROOT / package_dir / "package-lock.json").read_text())
    dependencies = manifest["dependencies"]
    assert dependencies
    for name, version in dependencies.items():
        assert EXACT_VERSION.fullmatch(version), f"{name}@{version} is not an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
