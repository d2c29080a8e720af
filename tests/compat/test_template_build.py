"""A program that builds its own template (spec §9) and starts sandboxes from it."""

from __future__ import annotations

from gravixlayer import AsyncGravixLayer, AsyncSandbox, GravixLayer, Sandbox, TemplateBuilder
from gravixlayer.local import LocalServer
from gravixlayer.types.templates import BuildLogEntry


def test_built_template_file_appears_in_a_new_sandbox(program_env: LocalServer) -> None:
    # --- the program, unchanged (but for a short poll interval) ---
    client = GravixLayer()
    builder = (
        TemplateBuilder("data-app", description="config and a prepared data file")
        .mkdir("/home/user/app")
        .copy_file("/home/user/app/config.yaml", "model: local\nlimit: 3\n", mode="0640")
        .run("cd /home/user/app && python -c \"print(sum(range(10)))\" > prepared.txt")
        .set_env("APP_MODE", "production")
    )
    seen: list[BuildLogEntry] = []
    status = client.templates.build_and_wait(builder, poll_interval_secs=0.2, timeout_secs=300, on_status=seen.append)
    with Sandbox.create(template="data-app", timeout=600) as sandbox:
        config = sandbox.read_file("/home/user/app/config.yaml")
        prepared = sandbox.run_cmd("cat app/prepared.txt; echo $APP_MODE; stat -c %a app/config.yaml").stdout
        template_name = sandbox.template
    info = client.templates.get(status.template_id)
    listed = [t.name for t in client.templates.list()]
    client.templates.delete(status.template_id)
    after = [t.name for t in client.templates.list()]
    # --- what it must have seen ---
    assert status.is_success and status.phase == "completed" and status.progress_percent == 100
    assert seen[0].message.startswith("build started") and seen[-1].message == "build completed"
    assert config == "model: local\nlimit: 3\n"
    assert prepared == "45\nproduction\n640\n"
    assert template_name == "data-app"
    assert info.name == "data-app" and info.environment == {"APP_MODE": "production"}
    assert "data-app" in listed and "data-app" not in after


async def test_async_program_builds_and_uses_a_template(program_env: LocalServer) -> None:
    async with AsyncGravixLayer() as client:
        builder = TemplateBuilder("async-app").copy_file("notes.txt", "built asynchronously\n")
        status = await client.templates.build_and_wait(builder, poll_interval_secs=0.2, timeout_secs=300)
        async with AsyncSandbox.create(template=status.template_id, client=client) as sandbox:
            notes = await sandbox.read_file("notes.txt")
        snapshot = await client.templates.get_snapshot(status.template_id)
        await client.templates.delete(status.template_id)
    assert notes == "built asynchronously\n"
    assert snapshot.has_snapshot and (snapshot.snapshot_size_bytes or 0) >= len("built asynchronously\n")
