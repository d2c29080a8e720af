"""The vendor's sandbox cookbooks: `from gravixlayer import Sandbox`, `Sandbox.create(...)`, flat file
methods, `run_cmd`, and the `client.sandbox.create/list/get/kill` shortcuts (spec §8.10)."""

from __future__ import annotations

import pytest

from gravixlayer import AsyncGravixLayer, AsyncSandbox, GravixLayer, GravixLayerNotFoundError, Sandbox
from gravixlayer.local import LocalServer


def _status(client: GravixLayer, sandbox_id: str) -> str | None:
    try:
        return client.sandbox.sandboxes.get(sandbox_id).status
    except GravixLayerNotFoundError:
        return "gone"


def test_cookbook_code_interpreter(program_env: LocalServer) -> None:
    # --- the program (cookbook "code interpreter"), unchanged ---
    with Sandbox.create(template="python-base-v1", timeout=600) as sandbox:
        result = sandbox.run_code("print('Hello from GravixLayer!')")
        hello = result.logs["stdout"]
        sandbox.run_code("import math\nvalues = [math.sqrt(x) for x in range(5)]\nprint(sum(values))")
        sandbox.write_file("/home/user/data.csv", "name,score\nada,9\nbob,7\n")
        analysis = sandbox.run_code(
            # Relative to /home/user, the working directory (absolute /home/user inside code needs the
            # isolated sandbox environment the lead is building).
            "import csv\nrows = list(csv.DictReader(open('data.csv')))\n"
            "print(max(rows, key=lambda r: int(r['score']))['name'])"
        )
        content = sandbox.read_file("/home/user/data.csv")
        names = [f.name for f in sandbox.list_files("/home/user")]
        listing = sandbox.run_cmd("ls -la")
        sandbox.delete_file("/home/user/data.csv")
        after = [f.name for f in sandbox.list_files("/home/user")]
        sandbox_id = sandbox.sandbox_id
        alive = sandbox.is_alive()
    # --- what it must have seen ---
    assert hello == ["Hello from GravixLayer!"]
    assert analysis.stdout.strip() == "ada" and analysis.error is None
    assert content == "name,score\nada,9\nbob,7\n"
    assert "data.csv" in names and "data.csv" not in after
    assert listing.exit_code == 0 and "data.csv" in listing.stdout
    assert alive
    with GravixLayer() as check:  # the `with` block killed it
        assert _status(check, sandbox_id) in ("stopped", "gone")
    # The sandbox made its own client and closed it on exit.
    assert sandbox._owned_client is not None and sandbox._owned_client._http.is_closed  # type: ignore[attr-defined]


def test_cookbook_create_with_options_and_commands(program_env: LocalServer) -> None:
    # --- the program (cookbook "create with options" + "system commands"), unchanged ---
    sandbox = Sandbox.create(
        template="python-base-v1",
        provider="gravix",
        region="eu-west-1",
        timeout=1800,
        metadata={"project": "my-app", "env": "production", "user_id": "user123"},
    )
    facts = (sandbox.template, sandbox.timeout, sandbox.status, sandbox.metadata)
    echo = sandbox.run_command("echo", ["Hello from the cloud!"])
    version = sandbox.run_command("python3", ["--version"])
    result = sandbox.run_code("import sys; print(sys.version)")
    first_line = result.logs["stdout"][0]
    sandbox.kill()
    # --- what it must have seen ---
    assert facts == (
        "python-base-v1", 1800, "running", {"project": "my-app", "env": "production", "user_id": "user123"}
    )
    assert echo.stdout.strip() == "Hello from the cloud!" and version.stdout.startswith("Python 3")
    assert first_line.startswith("3.")
    assert sandbox.status == "stopped"
    sandbox.close()
    with pytest.raises(ValueError, match="disagree"):
        Sandbox.create(cloud="aws", provider="gcp")


def test_client_shortcuts(program_env: LocalServer) -> None:
    client = GravixLayer()
    sandbox = client.sandbox.create(template="python-base-v1")  # provider/region: documented defaults
    assert sandbox.info.provider in (None, "aws") and sandbox.status == "running"
    assert sandbox.sandbox_id in [s.sandbox_id for s in client.sandbox.list()]
    again = client.sandbox.get(sandbox.sandbox_id)
    assert isinstance(again, Sandbox) and again.run_command("echo", ["hi"]).stdout == "hi\n"
    killed = client.sandbox.kill(sandbox.sandbox_id)
    assert killed.message and _status(client, sandbox.sandbox_id) in ("stopped", "gone")

    other = client.sandbox.create()
    with Sandbox.connect(other.sandbox_id) as attached:  # another process attaching by id
        attached.write_file("from-elsewhere.txt", "x")
        assert "from-elsewhere.txt" in other.list_files()
    # Leaving the `with Sandbox.connect(...)` block killed it, as leaving `with Sandbox.create(...)` does.
    assert _status(client, other.sandbox_id) in ("stopped", "gone")
    client.close()


def test_sandbox_given_a_client_and_env_vars(local_server: LocalServer) -> None:
    with Sandbox.create(client=local_server.client, env_vars={"STAGE": "cookbook"}) as sandbox:
        assert sandbox.run_cmd("sh", ["-c", "echo $STAGE"]).stdout == "cookbook\n"
        assert sandbox.run_code("import os; print(os.environ['STAGE'])", env_vars={"STAGE": "run"}).stdout == "run"
    assert sandbox._owned_client is None and not local_server.client._http.is_closed  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not both"):
        Sandbox.create(client=local_server.client, api_key="x")


async def test_async_cookbook(program_env: LocalServer) -> None:
    async with AsyncSandbox.create(template="python-base-v1") as sandbox:
        await sandbox.write_file("hello.py", "print(6 * 7)")
        run = await sandbox.run_cmd("python3 hello.py")
        text = await sandbox.read_file("hello.py")
        sandbox_id = sandbox.sandbox_id
    assert run.stdout == "42\n" and text == "print(6 * 7)"
    async with AsyncGravixLayer() as client:
        try:
            status = (await client.sandbox.get(sandbox_id)).status
        except GravixLayerNotFoundError:
            status = "gone"
    assert status in ("stopped", "gone")
    again = await AsyncSandbox.create()
    try:
        assert (await again.run_code("1 + 1")).text == "2"
    finally:
        await again.kill()
        await again.close()
