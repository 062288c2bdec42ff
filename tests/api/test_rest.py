"""HA's REST API against the running app: shapes, status codes and every error path."""

from __future__ import annotations

from tests.api.apitools import Api


async def test_api_running(api: Api) -> None:
    response = await api.request("GET", "/api/")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"message": "API running."}
