"""`TemplateBuilder` (spec §9): the build body both vendor builders send, whichever spelling a program uses."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gravixlayer import GravixLayerValidationError, TemplateBuilder


def _content(step: dict[str, object]) -> bytes:
    return base64.b64decode(str(step["content"]))


def test_body_of_a_full_build() -> None:
    body = (
        TemplateBuilder("ml-env", description="numpy and a server")
        .from_image("python:3.11-slim")
        .vcpu(4).memory(2048).disk(8192)
        .apt_install("git").pip_install("numpy", "pandas")
        .copy_file("/app/config.yaml", "model: gpt2\n", mode="0640")
        .git_clone("https://example.com/r.git", "/app/r", branch="main", depth=1, auth_token="tok")
        .mkdir("/app/data", mode="0755")
        .run("echo ok")
        .env("A", "1").envs({"B": "2"}).tags({"team": "ml"})
        .start_cmd("python serve.py").ready_cmd(TemplateBuilder.wait_for_port(8000), timeout_secs=30)
        .to_dict()
    )  # fmt: skip
    steps = body.pop("build_steps")
    assert body == {
        "name": "ml-env", "description": "numpy and a server", "docker_image": "python:3.11-slim",
        "vcpu_count": 4, "memory_mb": 2048, "disk_mb": 8192, "start_cmd": "python serve.py",
        "ready_cmd": "ss -tuln | grep -q :8000", "ready_timeout_secs": 30, "environment": {"A": "1", "B": "2"},
        "tags": {"team": "ml"},
    }  # fmt: skip
    assert [s["type"] for s in steps] == ["apt_install", "pip_install", "copy_file", "git_clone", "mkdir", "run"]
    assert steps[2]["args"] == ["/app/config.yaml"] and _content(steps[2]) == b"model: gpt2\n"
    assert steps[2]["options"] == {"mode": "0640"}
    assert steps[3] == {
        "type": "git_clone", "args": ["https://example.com/r.git", "/app/r"],
        "options": {"branch": "main", "depth": "1", "auth_token": "tok"},
    }  # fmt: skip
    assert TemplateBuilder("x").to_dict() == {"name": "x", "vcpu_count": 2, "memory_mb": 512, "disk_mb": 4096}


def test_older_setter_names_make_the_same_body() -> None:
    new = TemplateBuilder("t").vcpu(3).memory(1024).template_id("tid").start_cmd("s").env("K", "v").tags({"a": "b"})
    old = (
        TemplateBuilder("t").set_vcpu(3).set_memory(1024).set_template_id("tid").set_start_cmd("s")
        .set_env("K", "v").set_tags({"a": "b"})
    )  # fmt: skip
    assert new.to_dict() == old.to_dict()
    assert TemplateBuilder("d").dockerfile("FROM x").to_dict() == TemplateBuilder("d").from_dockerfile("FROM x").to_dict()


def test_copy_file_in_either_vendor_order(tmp_path: Path) -> None:
    local = tmp_path / "main.py"
    local.write_bytes(b"print('from disk')\n")
    builder = (
        TemplateBuilder("c")
        .copy_file("/app/a.yaml", "a: 1\n")  # (dest_path, content): the older builder
        .copy_file("print('hi')\n", "/app/hello.py")  # (src, dest): inline text, the newer builder
        .copy_file(str(local), "/app/main.py")  # (src, dest): a local file
        .copy_file(b"\x00\x01", "/app/blob.bin")  # (src, dest): bytes
        .copy_file(src="/app/x", dest="/app/y")  # keywords decide: src is inline text here
        .copy_file(dest_path="/app/z", content=b"z")
    )
    steps = builder.to_dict()["build_steps"]
    assert [(s["args"][0], _content(s)) for s in steps] == [
        ("/app/a.yaml", b"a: 1\n"), ("/app/hello.py", b"print('hi')\n"), ("/app/main.py", b"print('from disk')\n"),
        ("/app/blob.bin", b"\x00\x01"), ("/app/y", b"/app/x"), ("/app/z", b"z"),
    ]  # fmt: skip


def test_copy_dir_keeps_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / "src" / "pkg" / "b.txt").write_text("b")
    steps = TemplateBuilder("d").copy_dir(tmp_path / "src", "/home/user/app").to_dict()["build_steps"]
    assert sorted((s["args"][0], _content(s)) for s in steps) == [
        ("/home/user/app/a.txt", b"a"), ("/home/user/app/pkg/b.txt", b"b"),
    ]  # fmt: skip


def test_mistakes_are_refused_where_they_are_made() -> None:
    with pytest.raises(GravixLayerValidationError):
        TemplateBuilder("")
    with pytest.raises(GravixLayerValidationError):
        TemplateBuilder("x").pip_install()
    with pytest.raises(GravixLayerValidationError):
        TemplateBuilder("x").vcpu(0)
    with pytest.raises(GravixLayerValidationError):
        TemplateBuilder("x").from_image("python:3.11").dockerfile("FROM y")
