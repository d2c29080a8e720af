"""SSH of sandboxes (spec §8.9) under ``/v1/agents/sandboxes/{id}/ssh``: enable, disable, status.

The servers are ``sandbox.ssh.SSHService``; this module reads requests and shapes answers. `enable`
(and `?regenerate_keys=true`) answers the private key, which Local keeps only in memory while SSH is on.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import LocalAPIError
from ..sandbox import SandboxManager
from ..sandbox.ssh import USERNAME, SSHService, SSHState
from ..storage import tenant_of
from .sandboxes import PREFIX, manager

__all__ = ["routes", "startup", "shutdown"]


def service(request: Request) -> SSHService:
    found = getattr(request.app.state, "ssh", None)
    if not isinstance(found, SSHService):
        raise LocalAPIError(503, "unavailable", "the SSH service is not running")
    return found


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise LocalAPIError(400, "invalid_request", f"{name} must be true or false, got {raw!r}")


def _connect_host(request: Request, state: SSHState) -> str:
    return state.host if state.host not in ("0.0.0.0", "::") else (request.url.hostname or "127.0.0.1")


def _answer(request: Request, sandbox_id: str, state: SSHState, message: str) -> dict[str, Any]:
    host = _connect_host(request, state)
    key_file = f"~/.ssh/gravixlayer-{sandbox_id[:8]}"
    return {
        "sandbox_id": sandbox_id,
        "enabled": True,
        "port": state.port,
        "username": USERNAME,
        "host": host,
        "connect_cmd": f"ssh -i {key_file} -p {state.port} {USERNAME}@{host}",
        "key_fingerprint": state.fingerprint,
        "private_key": state.private_key_text(),
        "public_key": state.public_key_text(),
        "ssh_config": (
            f"Host gravixlayer-{sandbox_id[:8]}\n  HostName {host}\n  Port {state.port}\n  User {USERNAME}\n"
            f"  IdentityFile {key_file}\n  IdentitiesOnly yes\n"
        ),
        "message": message,
    }


async def enable(request: Request) -> Response:
    sandboxes = manager(request)
    tenant, sandbox_id = tenant_of(request), str(request.path_params["sandbox_id"])
    regenerate = _flag(request, "regenerate_keys")
    record = await sandboxes.fresh(tenant, sandbox_id)
    await sandboxes.runtime(record)  # 409 when stopped or paused; starts a fresh environment after a restart
    ssh = service(request)
    existed = ssh.get(sandbox_id) is not None
    bind = request.scope.get("server", ("127.0.0.1",))[0] or "127.0.0.1"
    mode = record.isolation or await sandboxes.isolation_mode()
    state = await ssh.enable(sandbox_id, mode, bind, regenerate=regenerate)
    record.ssh_enabled = True
    if regenerate:
        message = "SSH keys regenerated"
    else:
        message = "SSH already enabled" if existed else "SSH enabled"
    return JSONResponse(_answer(request, sandbox_id, state, message))


async def disable(request: Request) -> Response:
    sandboxes = manager(request)
    tenant, sandbox_id = tenant_of(request), str(request.path_params["sandbox_id"])
    record = await sandboxes.fresh(tenant, sandbox_id)
    was = await service(request).disable(sandbox_id)
    record.ssh_enabled = False
    message = "SSH disabled" if was else "SSH was not enabled"
    return JSONResponse({"sandbox_id": sandbox_id, "enabled": False, "message": message})


async def status(request: Request) -> Response:
    sandboxes = manager(request)
    tenant, sandbox_id = tenant_of(request), str(request.path_params["sandbox_id"])
    await sandboxes.fresh(tenant, sandbox_id)
    state = service(request).get(sandbox_id)
    return JSONResponse(
        {
            "sandbox_id": sandbox_id,
            "enabled": state is not None,
            "port": state.port if state is not None else None,
            "username": USERNAME,
            "daemon_running": state is not None and state.server.is_serving(),
            "key_fingerprint": state.fingerprint if state is not None else None,
        }
    )


_S = f"{PREFIX}/sandboxes/{{sandbox_id}}/ssh"

routes: list[BaseRoute] = [
    Route(f"{_S}/enable", enable, methods=["POST"]),
    Route(f"{_S}/disable", disable, methods=["POST"]),
    Route(f"{_S}/status", status, methods=["GET"]),
]


async def startup(app: Starlette) -> None:
    sandboxes = getattr(app.state, "sandboxes", None)
    if not isinstance(sandboxes, SandboxManager):
        return

    async def runtime_of(sandbox_id: str) -> Any:
        record = sandboxes.records[sandbox_id]
        return await sandboxes.runtime(await sandboxes.fresh(record.tenant, sandbox_id))

    ssh = SSHService(runtime_of)

    async def stopped(sandbox_id: str) -> None:
        record = sandboxes.records.get(sandbox_id)
        if record is not None:
            record.ssh_enabled = False
        await ssh.disable(sandbox_id)

    sandboxes.stop_hooks.append(stopped)
    app.state.ssh = ssh


async def shutdown(app: Starlette) -> None:
    ssh = getattr(app.state, "ssh", None)
    if isinstance(ssh, SSHService):
        await ssh.close()
