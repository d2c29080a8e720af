"""What a tenant can see of GravixLayer Local, to assert that a refused request changed nothing."""

from __future__ import annotations

import os
from typing import Any

import httpx


def snapshot(http: httpx.Client) -> dict[str, Any]:
    """Every index (with all its vectors), file and deployment the client's tenant can see."""
    indexes = http.get("/v1/vectors/indexes", params={"page_size": 1000})
    assert indexes.status_code == 200, indexes.text
    state: dict[str, Any] = {"indexes": indexes.json()["indexes"], "vectors": {}}
    for index in state["indexes"]:
        fetched = http.get(f"/v1/vectors/{index['id']}/fetch")
        assert fetched.status_code == 200, fetched.text
        state["vectors"][index["id"]] = fetched.json()["vectors"]
    files = http.get("/v1/files")
    assert files.status_code == 200, files.text
    state["files"] = files.json()["data"]
    deployments = http.get("/v1/deployments/list")
    assert deployments.status_code == 200, deployments.text
    state["deployments"] = [{k: v for k, v in d.items() if k != "status"} for d in deployments.json()]
    return state


def open_descriptors() -> int:
    """Descriptors open in this process (the in-thread Local server included)."""
    return len(os.listdir("/proc/self/fd"))


def check_refusal(response: httpx.Response) -> None:
    """A refusal is a 4xx in the one error shape, never a 500."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "code"} and body["error"], body
