"""What a tenant can see of GravixLayer Local, to assert that a refused request changed nothing."""

from __future__ import annotations

import os
from pathlib import Path
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


def open_descriptors(data_dir: Path) -> int:
    """Sockets and data files (other than the database) open in this process, in-thread Local included.

    The SQLite files are left out: each new worker thread legitimately keeps its own connection.
    """
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:") or (target.startswith(str(data_dir)) and "local.sqlite3" not in target):
            count += 1
    return count


def check_refusal(response: httpx.Response) -> None:
    """A refusal is a 4xx in the one error shape, never a 500."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "code"} and body["error"], body
