"""CORS (CONTRACT section 6): browser apps on LIKEGRAPH_CORS_ORIGINS may call the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.settings import Settings, SettingsError, cors_origins_of

APP_ORIGIN = "https://app.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def client_for(settings: Settings, origins: tuple[str, ...]) -> httpx.AsyncClient:
    app = create_app(
        Settings(settings.database_url, settings.secret, settings.token_ttl, cors_origins=origins)
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def listed(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(settings, (APP_ORIGIN,)) as http:
        yield http


async def test_a_listed_origin_gets_its_preflight_answered(listed: httpx.AsyncClient) -> None:
    for path in ("/graphql", "/export"):
        response = await listed.options(path, headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == APP_ORIGIN
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert "POST" in response.headers["access-control-allow-methods"]


async def test_a_listed_origin_can_read_the_answer(listed: httpx.AsyncClient) -> None:
    response = await listed.post(
        "/graphql", json={"query": "{ viewer { handle } }"}, headers={"Origin": APP_ORIGIN}
    )
    assert response.json() == {"data": {"viewer": None}}
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_another_origin_gets_no_access_control_headers(listed: httpx.AsyncClient) -> None:
    preflight = await listed.options(
        "/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = await listed.post(
        "/graphql",
        json={"query": "{ viewer { handle } }"},
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_star_allows_any_origin(settings: Settings) -> None:
    async with await client_for(settings, ("*",)) as http:
        response = await http.options(
            "/graphql", headers={"Origin": "https://anywhere.example", **PREFLIGHT}
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


async def test_by_default_no_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405


def test_the_setting_is_a_comma_separated_list() -> None:
    assert cors_origins_of("") == ()
    assert cors_origins_of(" https://a.example, http://localhost:3000/ ,") == (
        "https://a.example",
        "http://localhost:3000",
    )
    assert cors_origins_of("*") == ("*",)
    with pytest.raises(SettingsError, match=re.escape("holds 'app.example'")):
        cors_origins_of("app.example")
