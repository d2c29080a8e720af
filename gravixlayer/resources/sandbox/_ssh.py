"""The SSH requests of a sandbox (spec §8.9) and their readers, shared by the sync and async resources."""

from __future__ import annotations

from functools import partial

import httpx

from ..._parse import parse_model
from ..._request import APIRequest, Step
from ..._types import RequestOptions
from ...types.sandbox import SSHInfo, SSHStatus
from ._requests import _sandbox_path

__all__ = ["ssh_enable_request", "ssh_status_request", "ssh_disable_step", "parse_ssh_info", "parse_ssh_status"]

parse_ssh_info = partial(parse_model, SSHInfo)
parse_ssh_status = partial(parse_model, SSHStatus)


def ssh_enable_request(sandbox_id: str, regenerate_keys: bool, options: RequestOptions) -> APIRequest:
    """`POST .../ssh/enable`, with `?regenerate_keys=true` only when asked (a new key is not a retry)."""
    params = {"regenerate_keys": "true"} if regenerate_keys else None
    path = _sandbox_path(sandbox_id, "ssh", "enable")
    return APIRequest("POST", "agents", path, params=params, options=options, idempotent=not regenerate_keys)


def ssh_status_request(sandbox_id: str, options: RequestOptions) -> APIRequest:
    return APIRequest("GET", "agents", _sandbox_path(sandbox_id, "ssh", "status"), options=options)


def ssh_disable_step(sandbox_id: str, options: RequestOptions) -> Step[SSHStatus]:
    """`POST .../ssh/disable`; the reply is not relied on (spec §8.9): a JSON object is read, else SSH is off."""
    response = yield APIRequest("POST", "agents", _sandbox_path(sandbox_id, "ssh", "disable"), options=options)
    if _is_json_object(response):
        status = parse_ssh_status(response)
        if status.sandbox_id is None:
            status.sandbox_id = sandbox_id
        return status
    return SSHStatus(sandbox_id=sandbox_id, enabled=False)


def _is_json_object(response: httpx.Response) -> bool:
    if not response.content or "json" not in response.headers.get("content-type", ""):
        return False
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False
