"""Template builds in GravixLayer Local (spec §9): steps run for real in a builder sandbox, the result is a
layer new sandboxes start from, and what Local cannot do fails the build naming the step and why."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from gravixlayer import GravixLayer, GravixLayerBadRequestError, GravixLayerNotFoundError, TemplateBuilder
from gravixlayer._exceptions import TemplateBuildError
from gravixlayer.local import LocalServer
from gravixlayer.types.templates import TemplateBuildStatus

from .conftest import LOCATION


def _wheel(name: str, source: str) -> bytes:
    """A pure-Python wheel (pip installs it without any network)."""
    buffer = io.BytesIO()
    dist = f"{name}-0.1.dist-info"
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", source)
        wheel.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        wheel.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{dist}/RECORD", "")
    return buffer.getvalue()


def _build(client: GravixLayer, builder: TemplateBuilder) -> TemplateBuildStatus:
    return client.templates.build_and_wait(builder, poll_interval_secs=0.2, timeout_secs=300)


def _failure(client: GravixLayer, builder: TemplateBuilder) -> str:
    with pytest.raises(TemplateBuildError) as failed:
        _build(client, builder)
    status = failed.value.status
    assert isinstance(status, TemplateBuildStatus) and status.status == "failed"
    assert status.error is not None
    return status.error


def test_pip_git_and_run_steps_make_a_layer(client: GravixLayer) -> None:
    builder = (
        TemplateBuilder("tools-layer")
        .copy_file("wheels/glxdemo-0.1-py3-none-any.whl", _wheel("glxdemo", "ANSWER = 42\n"))
        .pip_install("/home/user/wheels/glxdemo-0.1-py3-none-any.whl")
        .run("git init -q origin && cd origin && echo v1 > VERSION && git add VERSION "
             "&& git -c user.email=a@b -c user.name=a commit -qm v1")  # fmt: skip
        .git_clone("/home/user/origin", "/home/user/checkout", depth=1)
        .run("rm -rf /home/user/origin /home/user/wheels")
    )
    status = _build(client, builder)
    sandbox = client.sandbox.sandboxes.create(template="tools-layer", **LOCATION, timeout=600)
    try:
        code = sandbox.run_code("import glxdemo; print(glxdemo.ANSWER)")
        files = sandbox.run_command("cat checkout/VERSION; ls").stdout
        assert sandbox.info.template_id == status.template_id
    finally:
        sandbox.kill()
        client.templates.delete(status.template_id)
    assert code.logs.stdout == ["42"]
    assert files == "v1\ncheckout\n"


def test_each_new_sandbox_gets_its_own_copy_and_start_cmd(client: GravixLayer) -> None:
    builder = (
        TemplateBuilder("started-layer")
        .copy_file("shared.txt", "original\n")
        .set_start_cmd("echo $GRAVIXLAYER_SANDBOX_ID > started.txt; exec sleep 600")
        .set_ready_cmd(TemplateBuilder.wait_for_file("started.txt"), timeout_secs=30)
    )
    status = _build(client, builder)
    first = client.sandbox.sandboxes.create(template=status.template_id, **LOCATION, timeout=600)
    second = client.sandbox.sandboxes.create(template="started-layer", **LOCATION, timeout=600)
    try:
        first.filesystem.write("shared.txt", "changed in the first\n")
        assert second.filesystem.read("shared.txt") == "original\n"
        assert first.filesystem.read("started.txt") == first.sandbox_id + "\n"
        assert second.filesystem.read("started.txt") == second.sandbox_id + "\n"
    finally:
        first.kill()
        second.kill()
        client.templates.delete(status.template_id)


def test_steps_local_cannot_run_fail_the_build_naming_them(client: GravixLayer) -> None:
    apt = _failure(client, TemplateBuilder("apt-layer").pip_install("/dev/null/none").apt_install("curl"))
    assert apt.startswith("step 1 (pip_install)")  # steps stop at the first failure
    apt = _failure(client, TemplateBuilder("apt-layer").apt_install("curl"))
    assert "step 1 (apt_install) curl" in apt and "root" in apt
    image = _failure(client, TemplateBuilder("image-layer").from_python("3.11-slim"))
    assert "docker_image 'python:3.11-slim'" in image and "container images" in image
    outside = _failure(client, TemplateBuilder("outside-layer").mkdir("app").copy_file("/app/x.txt", "x"))
    assert "step 2 (copy_file) '/app/x.txt'" in outside and "/home/user" in outside
    failing = _failure(client, TemplateBuilder("run-layer").run("echo broken >&2; exit 3"))
    assert "step 1 (run) failed (exit status 3): broken" == failing
    network = _failure(client, TemplateBuilder("net-layer").git_clone("https://example.invalid/repo.git"))
    assert "step 1 (git_clone)" in network and "no network" in network
    names = [t.name for t in client.templates.list()]
    assert not {"apt-layer", "image-layer", "outside-layer", "run-layer", "net-layer"} & set(names)


def test_status_phases_and_errors_of_the_api(client: GravixLayer, local_server: LocalServer) -> None:
    started = client.templates.build(TemplateBuilder("phased-layer").run("sleep 1").run("true"))
    phases = set()
    while True:
        status = client.templates.get_build_status(started.build_id)
        phases.add((status.status, status.phase))
        if status.is_terminal:
            break
        time.sleep(0.05)
    assert ("running", "building") in phases and status.is_success
    assert status.started_at is not None and status.completed_at is not None
    with pytest.raises(GravixLayerNotFoundError):
        client.templates.get_build_status("no-such-build")
    with pytest.raises(GravixLayerBadRequestError):  # a built-in template is not yours to delete
        client.templates.delete("python-base-v1")
    base = f"{local_server.base_url}/v1/agents/templates/build"
    headers = {"Authorization": f"Bearer {local_server.api_key}"}
    unknown = httpx.post(base, json={"name": "x", "build_steps": [{"type": "brew_install"}]}, headers=headers)
    assert unknown.status_code == 400 and "build_steps[0].type" in unknown.text
    bad_content = httpx.post(
        base, json={"name": "x", "build_steps": [{"type": "copy_file", "args": ["a"], "content": "%%"}]}, headers=headers
    )
    assert bad_content.status_code == 400 and "base64" in bad_content.text
    client.templates.delete(status.template_id)
    with pytest.raises(GravixLayerNotFoundError):
        client.templates.get(status.template_id)


def test_npm_install_of_a_local_package(client: GravixLayer) -> None:
    builder = (
        TemplateBuilder("node-layer")
        .copy_file("pkg/package.json", '{"name": "glxpkg", "version": "0.1.0", "main": "index.js"}')
        .copy_file("pkg/index.js", "module.exports = () => 'from glxpkg';")
        .npm_install("/home/user/pkg")
    )
    if shutil.which("npm") is None:  # the build must say what is missing
        assert "npm is not installed" in _failure(client, builder)
        return
    status = _build(client, builder)
    sandbox = client.sandbox.sandboxes.create(template="node-layer", **LOCATION, timeout=600)
    try:
        out = sandbox.run_code("console.log(require('glxpkg')())", language="javascript")
    finally:
        sandbox.kill()
        client.templates.delete(status.template_id)
    assert out.logs.stdout == ["from glxpkg"], out


def test_a_template_belongs_to_the_key_that_built_it(tmp_path: Path) -> None:
    with LocalServer(api_keys=["owner-key-1a2b3c", "other-key-4d5e6f"], data_dir=tmp_path / "data") as local:
        owner = GravixLayer(api_key="owner-key-1a2b3c", base_url=local.base_url)
        other = GravixLayer(api_key="other-key-4d5e6f", base_url=local.base_url)
        status = _build(owner, TemplateBuilder("private-layer").copy_file("secret.txt", "owner only\n"))
        assert "private-layer" not in [t.name for t in other.templates.list()]
        for attempt in (
            lambda: other.templates.get(status.template_id),
            lambda: other.templates.delete(status.template_id),
            lambda: other.sandbox.sandboxes.create(template="private-layer", **LOCATION),
            lambda: other.sandbox.sandboxes.create(template=status.template_id, **LOCATION),
        ):
            with pytest.raises(GravixLayerNotFoundError):
                attempt()
        assert owner.templates.get(status.template_id).name == "private-layer"
        owner.close()
        other.close()


def test_a_built_template_outlives_a_restart_of_local(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalServer(api_keys=["restart-key-9f8e7d"], data_dir=data) as local:
        status = _build(local.client, TemplateBuilder("kept-layer").copy_file("kept.txt", "still here\n").set_env("K", "v"))
    with LocalServer(api_keys=["restart-key-9f8e7d"], data_dir=data) as local:
        sandbox = local.client.sandbox.sandboxes.create(template="kept-layer", **LOCATION)
        try:
            seen = sandbox.run_command("cat kept.txt; echo $K").stdout
        finally:
            sandbox.kill()
        assert local.client.templates.get_snapshot(status.template_id).has_snapshot
    assert seen == "still here\nv\n"
