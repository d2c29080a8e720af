"""LocalServer lifecycle, the app factory, the models list, the CLI, import cost."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import gravixlayer.local as local_pkg
from gravixlayer.local import LocalServer, create_app
from gravixlayer.local.app import ROUTERS

from .conftest import KEY_A


def test_context_manager_and_temp_dir_cleanup() -> None:
    server = LocalServer()
    assert "stopped" in repr(server)
    with server:
        assert server.running and server.base_url.startswith("http://127.0.0.1:")
        assert server.api_key.startswith("gl-local-") and server.api_key not in repr(server)
        data_dir = server.data_dir
        assert (data_dir / "local.sqlite3").exists()
        response = httpx.get(
            f"{server.base_url}/v1/inference/models", headers={"Authorization": f"Bearer {server.api_key}"}
        )
        assert response.status_code == 200
    assert not server.running and not data_dir.exists()
    server.stop()  # idempotent


def test_given_data_dir_is_kept(tmp_path: Path) -> None:
    with LocalServer(api_keys=KEY_A, data_dir=tmp_path / "d"):
        pass
    assert (tmp_path / "d" / "local.sqlite3").exists()


def test_port_in_use_fails_clearly() -> None:
    with LocalServer(api_keys=KEY_A) as first, pytest.raises(RuntimeError, match="failed to start"):
        LocalServer(api_keys=KEY_A, port=first.port).start()


def test_models_list(http: httpx.Client) -> None:
    body = http.get("/v1/inference/models").json()
    assert body["object"] == "list"
    by_id = {m["id"]: m for m in body["data"]}
    assert by_id["qwen/qwen-2.5-vl-7b-instruct"]["type"] == "chat"
    assert by_id["gravixlayer-local/standin"]["object"] == "model"
    assert by_id["microsoft/multilingual-e5-large"]["dimension"] == 1024


def test_create_app_state(tmp_path: Path) -> None:
    from gravixlayer.local import LocalConfig

    app = create_app(LocalConfig(api_keys=[KEY_A], data_dir=tmp_path))
    assert app.state.storage.is_open and app.state.config.data_dir == tmp_path
    assert "inference" in ROUTERS
    app.state.storage.close()


def test_client_property_builds_the_sdk_client(local: LocalServer) -> None:
    pytest.importorskip("gravixlayer._client")
    client = local.client
    assert client is local.client  # made once
    reply = client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "hi"}])
    assert "stand-in" in (reply.choices[0].message.content or "")


def test_import_is_cheap() -> None:
    code = (
        "import sys, gravixlayer.local; "
        "heavy = [m for m in ('starlette', 'uvicorn', 'numpy', 'wordllama') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert callable(local_pkg.shared)


def _start_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gravixlayer.local",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--log-level",
            "warning",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line


def test_cli_serves_and_stops(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# tenants\ncli-key-1\n")
    key_file.chmod(0o600)
    proc, line = _start_cli(
        "--api-key-file", str(key_file), "--data-dir", str(tmp_path), env={"GRAVIXLAYER_LOCAL_API_KEYS": "cli-key-2"}
    )
    try:
        match = re.match(r"GravixLayer Local listening on (http://127\.0\.0\.1:\d+) \(offline (model SmolLM2|stand-in)", line)
        assert match, line
        assert "cli-key" not in line  # given keys are not echoed
        base = match.group(1)
        assert httpx.get(f"{base}/health").json() == {"status": "ok"}
        assert httpx.get(f"{base}/v1/inference/models").status_code == 401
        for key in ("cli-key-1", "cli-key-2"):
            ok = httpx.get(f"{base}/v1/inference/models", headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert (tmp_path / "local.sqlite3").exists()
    assert proc.stdout is not None and proc.stdout.read() == ""  # exactly one line printed


def test_cli_generates_a_key_when_none_given(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GRAVIXLAYER_API_KEY"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gravixlayer.local",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = re.search(r"(http://\S+:\d+)", line).group(1)  # type: ignore[union-attr]
        key = re.search(r"API key: (\S+)\)", line).group(1)  # type: ignore[union-attr]
        ok = httpx.get(f"{base}/v1/inference/models", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0


def test_shared_server_is_one_per_process() -> None:
    first = local_pkg.shared()
    assert first is local_pkg.shared() and first.running
    assert httpx.get(f"{first.base_url}/health").status_code == 200


async def test_async_client_factory(local: LocalServer) -> None:
    pytest.importorskip("gravixlayer._client")
    async with local.async_client() as client:
        reply = await client.embeddings.create(model="baai/bge-small-en-v1.5", input="hello")
    assert len(reply.data[0].embedding) == 384


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("shared-key\n")
    key_file.chmod(0o644)
    proc, line = _start_cli("--api-key-file", str(key_file), "--data-dir", str(tmp_path))
    assert proc.wait(30) == 2
    assert proc.stderr is not None and "chmod 600" in proc.stderr.read()
