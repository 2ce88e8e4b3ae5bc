"""CORS: only the origins in ``Settings.cors_origins`` get the headers a browser needs to call the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from domain.settings import Settings
from serve.app import create_app

ALLOWED = "https://vms.prefeitura.example.gov.br"


def _client(*origins: str) -> TestClient:
    # No lifespan (no ``with``): a preflight is answered by the middleware before any route or store is reached.
    settings = Settings(database_url="postgresql://unused", object_store_url="file:///unused",
                        public_url="http://127.0.0.1:8000", secret="s", cors_origins=origins)
    return TestClient(create_app(settings))


def _preflight(client: TestClient, origin: str) -> dict[str, str]:
    answer = client.options("/api/v1/cameras", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    return {k.lower(): v for k, v in answer.headers.items()}


def test_an_allowed_origin_gets_the_cors_headers_on_a_preflight() -> None:
    headers = _preflight(_client(ALLOWED, "http://localhost:5173"), ALLOWED)
    assert headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in headers["access-control-allow-methods"]
    assert "authorization" in headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in headers  # bearer tokens, not cookies


def test_an_origin_not_in_the_list_gets_no_cors_headers() -> None:
    headers = _preflight(_client(ALLOWED), "https://evil.example.com")
    assert "access-control-allow-origin" not in headers


def test_no_origin_is_allowed_by_default() -> None:
    headers = _preflight(_client(), ALLOWED)
    assert not any(name.startswith("access-control-") for name in headers)
