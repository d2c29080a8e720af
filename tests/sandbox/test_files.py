"""Sandbox files: binary round trips, multipart writes, and paths that must never leave the sandbox."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest

from gravixlayer import GravixLayer, GravixLayerNotFoundError, GravixLayerValidationError
from gravixlayer.local import LocalServer
from gravixlayer.resources.sandbox import AsyncSandboxInstance, SandboxInstance

from .conftest import sandbox_root

BINARY = bytes(range(256)) * 2048 + os.urandom(100_000) + b"\r\n\x00tail"


def test_binary_upload_download_byte_for_byte(sandbox: SandboxInstance, tmp_path: Path) -> None:
    source = tmp_path / "blob.bin"
    source.write_bytes(BINARY)
    answer = sandbox.filesystem.upload(source, "/home/user/data/blob.bin")
    assert answer.path == "/home/user/data/blob.bin" and answer.size == len(BINARY)
    target = sandbox.filesystem.download("data/blob.bin", tmp_path / "back" / "blob.bin")
    assert target.read_bytes() == BINARY
    assert sandbox.filesystem.read_bytes("/home/user/data/blob.bin") == BINARY
    # Code in the sandbox sees the same bytes.
    digest = sandbox.run_code(
        "import hashlib\nhashlib.sha256(open('data/blob.bin', 'rb').read()).hexdigest()"
    )
    import hashlib

    assert digest.text == repr(hashlib.sha256(BINARY).hexdigest())
    # Without a destination the file lands in /home/user under its own name; a directory takes the name too.
    assert sandbox.filesystem.upload(source).path == "/home/user/blob.bin"
    assert sandbox.filesystem.upload(source, "/home/user/data").path == "/home/user/data/blob.bin"
    # Bytes written from code come back exactly.
    sandbox.run_code("open('made.bin', 'wb').write(bytes(range(256)))")
    assert sandbox.filesystem.read_bytes("made.bin") == bytes(range(256))


async def test_binary_round_trip_async(asandbox: AsyncSandboxInstance, tmp_path: Path) -> None:
    await asandbox.filesystem.write("/tmp/raw.bin", BINARY)
    assert await asandbox.filesystem.read_bytes("/tmp/raw.bin") == BINARY
    source = tmp_path / "up.bin"
    source.write_bytes(BINARY[::-1])
    await asandbox.filesystem.upload(source, "up.bin")
    back = await asandbox.filesystem.download("up.bin", tmp_path / "down.bin")
    assert back.read_bytes() == BINARY[::-1]
    entry = next(e for e in await asandbox.filesystem.list() if e.name == "up.bin")
    assert entry.size == len(BINARY) and not entry.is_dir and entry.path == "/home/user/up.bin"
    assert (await asandbox.filesystem.create_directory("d/e")).path == "/home/user/d/e"
    assert (await asandbox.filesystem.delete("d")).path == "/home/user/d"
    assert "d" not in (await asandbox.filesystem.list()).names()


def test_text_files_and_resource_methods(client: GravixLayer, sandbox: SandboxInstance) -> None:
    api = client.sandbox.sandboxes
    sid = sandbox.sandbox_id
    written = api.write_file(sid, "notes/ünïcode.txt", "héllo\nwörld")
    assert written.path == "/home/user/notes/ünïcode.txt" and written.bytes_written == len(
        "héllo\nwörld".encode()
    )
    read = api.read_file(sid, "/home/user/notes/ünïcode.txt")
    assert read.content == "héllo\nwörld" and read.size == written.bytes_written
    assert api.make_directory(sid, "notes/sub").path == "/home/user/notes/sub"
    listing = api.list_files(sid, "notes")
    assert listing.names() == ["sub", "ünïcode.txt"] and listing[0].is_dir
    info = sandbox.filesystem.write("run.sh", "#!/bin/sh\necho ran\n")
    assert info.path == "/home/user/run.sh" and info.size == len("#!/bin/sh\necho ran\n")
    api.write(sid, "run2.sh", "#!/bin/sh\necho ran too\n", mode=0o755)
    assert sandbox.run_command("./run2.sh").stdout == "ran too\n"
    assert api.delete_file(sid, "notes").path == "/home/user/notes"
    assert api.download_file(sid, "run.sh") == b"#!/bin/sh\necho ran\n"


def test_write_files_reports_partial_failure(
    client: GravixLayer, sandbox: SandboxInstance, local_server: LocalServer
) -> None:
    results = sandbox.filesystem.write_files({"a.txt": "A", "/tmp/b.bin": b"\x00B", "sub/c.txt": "C"})
    assert [r.path for r in results] == ["/home/user/a.txt", "/tmp/b.bin", "/home/user/sub/c.txt"]
    assert all(r.error is None for r in results)
    assert sandbox.filesystem.read_bytes("/tmp/b.bin") == b"\x00B"

    sandbox.run_command("ln", ["-s", "/etc", "etc-link"])
    url = f"{local_server.base_url}/v1/agents/sandboxes/{sandbox.sandbox_id}/files"
    parts = [
        ("file", ("/home/user/good.txt", b"good", "application/octet-stream")),
        ("file", ("etc-link/evil.txt", b"evil", "application/octet-stream")),
    ]
    answer = httpx.post(url, files=parts, headers={"Authorization": f"Bearer {local_server.api_key}"})
    assert answer.status_code == 207
    body = answer.json()
    assert body[0]["path"] == "/home/user/good.txt" and "error" not in body[0]
    assert "denied" in body[1]["error"] or "read-only" in body[1]["error"]  # the sandbox's own /etc
    assert sandbox.filesystem.read("good.txt") == "good"
    assert not Path("/etc/evil.txt").exists()
    # The SDK hands back the per-file errors.
    mixed = client.sandbox.sandboxes.write_files(sandbox.sandbox_id, [("ok.txt", "ok"), ("etc-link/x", "no")])
    assert mixed[0].error is None and mixed[1].error is not None


def test_path_escapes_are_refused_and_nothing_outside_is_touched(
    client: GravixLayer, sandbox: SandboxInstance, local_server: LocalServer, tmp_path: Path
) -> None:
    outside = tmp_path / f"outside-{uuid.uuid4().hex}"
    outside.mkdir()
    (outside / "secret.txt").write_text("host secret")
    os.chmod(tmp_path, 0o755)
    os.chmod(outside, 0o777)
    sid = sandbox.sandbox_id

    # `..` is refused by the SDK before sending and by the server itself.
    with pytest.raises(GravixLayerValidationError):
        sandbox.filesystem.write("../../escape.txt", "x")
    http = httpx.Client(base_url=f"{local_server.base_url}/v1/agents/sandboxes/{sid}",
                        headers={"Authorization": f"Bearer {local_server.api_key}"})  # fmt: skip
    with http:
        for method, path, kwargs in [
            ("POST", "files/write", {"json": {"path": "../../../escape.txt", "content": "x"}}),
            (
                "POST",
                "files/write",
                {"json": {"path": f"/home/user/../../../{outside}/x.txt", "content": "x"}},
            ),
            ("POST", "files/read", {"json": {"path": "/home/../../etc/passwd"}}),
            ("POST", "files/list", {"json": {"path": ".."}}),
            ("POST", "files/delete", {"json": {"path": "../user"}}),
            ("POST", "files/mkdir", {"json": {"path": "a/../../b"}}),
            ("POST", "files/read", {"json": {"path": "bad\u0000name"}}),
            ("GET", "download", {"params": {"path": "../../../etc/passwd"}}),
            ("POST", "files", {"params": {"path": "../x"}, "files": {"file": ("x", b"x")}}),
            ("POST", "upload", {"data": {"path": "../../x"}, "files": {"file": ("x", b"x")}}),
            ("POST", "commands/run", {"json": {"command": "ls", "working_dir": "../.."}}),
            ("POST", "code/contexts", {"json": {"cwd": "../../.."}}),
        ]:
            answer = http.request(method, path, **kwargs)
            assert answer.status_code == 400, (method, path, answer.status_code, answer.text)
            assert answer.json()["code"] == "invalid_path"

        # Absolute paths name the sandbox's own `/`: the host's files are neither read nor written.
        passwd = http.post("files/read", json={"path": "/etc/passwd"})
        assert passwd.status_code in (200, 404)
        if passwd.status_code == 200:  # the sandbox's generated passwd, not the host's
            assert "user:x:" in passwd.json()["content"] and len(passwd.json()["content"].splitlines()) <= 3
        planted = http.post("files/write", json={"path": f"{outside}/planted.txt", "content": "inside"})
        assert planted.status_code in (200, 400), planted.text
        assert not (outside / "planted.txt").exists()

        # Symbolic links to host paths lead, inside the sandbox's own file system, to nothing of the host:
        # each operation fails or acts on the sandbox's own files; nothing outside changes.
        sandbox.run_command("ln", ["-s", str(outside), "out"])
        sandbox.run_command("ln", ["-s", f"{outside}/secret.txt", "secret-link"])
        for method, path, kwargs in [
            ("POST", "files/read", {"json": {"path": "out/secret.txt"}}),
            ("POST", "files/read", {"json": {"path": "secret-link"}}),
            ("POST", "files/write", {"json": {"path": "out/new.txt", "content": "x"}}),
            ("POST", "files/write", {"json": {"path": "secret-link", "content": "overwritten"}}),
            ("POST", "files/list", {"json": {"path": "out"}}),
            ("POST", "files/mkdir", {"json": {"path": "out/newdir"}}),
            ("POST", "files/delete", {"json": {"path": "out/secret.txt"}}),
            ("GET", "download", {"params": {"path": "secret-link"}}),
            ("POST", "files", {"params": {"path": "out/multi.txt"}, "files": {"file": ("x", b"x")}}),
            ("POST", "upload", {"data": {"path": "out/up.txt"}, "files": {"file": ("x", b"x")}}),
            ("POST", "commands/run", {"json": {"command": "ls", "working_dir": "out"}}),
        ]:
            answer = http.request(method, path, **kwargs)
            assert answer.status_code in (200, 400, 404), (method, path, answer.status_code, answer.text)
            assert "host secret" not in answer.text
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "host secret"
    # Deleting the link itself is allowed and leaves its target alone.
    sandbox.filesystem.delete("secret-link")
    sandbox.filesystem.delete("out")
    assert (outside / "secret.txt").read_text() == "host secret"
    # A link that stays inside the sandbox works.
    sandbox.filesystem.write("real/target.txt", "inner")
    sandbox.run_command("ln", ["-s", "real", "inner-link"])
    assert sandbox.filesystem.read("inner-link/target.txt") == "inner"


def test_two_sandboxes_cannot_see_each_others_files(client: GravixLayer, local_server: LocalServer) -> None:
    with (
        client.sandbox.sandboxes.create(provider="gravix", region="local") as a,
        client.sandbox.sandboxes.create(provider="gravix", region="local") as b,
    ):
        a.filesystem.write("private.txt", "only a")
        assert "private.txt" not in b.filesystem.list().names()
        assert b.run_code("import os\nos.listdir(os.path.expanduser('~'))").text == "[]"
        assert b.run_code("import os\nos.path.exists('private.txt')").text == "False"
        host_path = str(sandbox_root(local_server, a.sandbox_id) / "home" / "user" / "private.txt")
        with pytest.raises(GravixLayerNotFoundError):
            b.filesystem.read(host_path)  # another sandbox's host path names a file inside b: none
        # a's directory does not exist in b's file system at all: b cannot change a's files.
        denied = b.run_command("sh", ["-c", f"echo b > {host_path}"])
        assert denied.exit_code != 0
        assert a.filesystem.read("private.txt") == "only a"


def test_any_unicode_name_downloads_and_odd_names_never_break_the_server(
    sandbox: SandboxInstance, local_server: LocalServer
) -> None:
    import psutil

    base = f"{local_server.base_url}/v1/agents/sandboxes/{sandbox.sandbox_id}"
    auth = {"Authorization": f"Bearer {local_server.api_key}"}
    for name in ("报告.txt", "emoji-😀.txt", 'quote"and\\\\slash.txt', "naïve café.txt"):
        sandbox.filesystem.write(name, name)
        answer = httpx.get(f"{base}/download", params={"path": name}, headers=auth)
        assert answer.status_code == 200 and answer.text == name
        disposition = answer.headers["content-disposition"]
        assert disposition.isascii() and "filename*=UTF-8''" in disposition
    # A name with a newline (or any control character) is refused on write, with nothing written.
    refused = httpx.post(f"{base}/files/write", json={"path": "bad\nname.txt", "content": "x"}, headers=auth)
    assert refused.status_code == 400
    assert "bad" not in " ".join(sandbox.filesystem.list().names())
    # A file name that is not UTF-8 (made by sandbox code) is listed, escaped, instead of breaking the listing.
    sandbox.run_code("import os\nopen(os.path.join(os.fsencode('.'), b'raw-\\xff.bin'), 'wb').write(b'x')")
    listed = httpx.post(f"{base}/files/list", json={"path": "/home/user"}, headers=auth)
    assert listed.status_code == 200 and any(e["name"] == "raw-\\xff.bin" for e in listed.json()["files"])
    # Downloads close what they open, whether the file exists or not.
    server = psutil.Process()
    before = server.num_fds()
    for _ in range(30):
        httpx.get(f"{base}/download", params={"path": "报告.txt"}, headers=auth)
        httpx.get(f"{base}/download", params={"path": "missing.txt"}, headers=auth)
    assert server.num_fds() <= before + 5


def test_a_text_file_larger_than_a_json_request_is_written(sandbox: SandboxInstance) -> None:
    text = "0123456789abcdef" * (20 * 1024 * 1024 // 16)  # 20 MiB through files/write (JSON)
    sandbox.filesystem.write("big.txt", text)
    assert sandbox.run_command("wc", ["-c", "big.txt"]).stdout.split()[0] == str(len(text))
