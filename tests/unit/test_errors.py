"""A store that is down is a 503 the client may retry, never a 500."""

from __future__ import annotations

import asyncpg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError

from serve import errors


@pytest.mark.parametrize("down", [ConnectionRefusedError(111, "refused"), TimeoutError("slow"),
                                  asyncpg.CannotConnectNowError("starting up"),
                                  asyncpg.ConnectionDoesNotExistError("closed"), RedisConnectionError("gone")])
def test_an_unreachable_store_is_a_503_with_retry_after(down: Exception) -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/x")
    async def fails() -> None:
        raise down

    response = TestClient(app).get("/x")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "unreachable" in response.json()["error"]["message"]


def test_a_reference_to_nothing_is_a_404_not_a_500() -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/x")
    async def fails() -> None:  # e.g. an admin naming a tenant_id that does not exist
        raise asyncpg.ForeignKeyViolationError("insert violates foreign key constraint")

    response = TestClient(app).get("/x")
    assert response.status_code == 404 and "does not exist" in response.json()["error"]["message"]
