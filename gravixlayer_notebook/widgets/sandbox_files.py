"""Sandbox file browser: walk the file tree, preview text files, upload from the notebook, download,
create folders, delete with confirmation."""

from __future__ import annotations

import base64
import posixpath
from typing import Any

import ipywidgets as w
from traitlets import Dict, Int, List, Unicode, observe

from .._html import esc, plural
from ._base import Browser, button

__all__ = ["SandboxFileBrowser", "HOME"]

HOME = "/home/user"
_PREVIEW_BYTES = 200_000
_DOWNLOAD_BYTES = 20 * 1024 * 1024
_MAX_ENTRIES = 300


def _entry(f: Any, parent: str) -> dict[str, Any]:
    path = f.path or posixpath.join(parent, f.name)
    return {"name": f.name, "path": path, "is_dir": bool(f.is_dir), "size": f.size, "modified": f.modified or ""}


class SandboxFileBrowser(Browser):
    """Files of one sandbox: `path` (current folder), `entries`, `selected`, `preview`, `pending_delete`."""

    columns = ("name", "type", "size", "modified")

    sandbox_id = Unicode(help="The sandbox being browsed.")
    path = Unicode(HOME, help="The folder shown.")
    entries = List(Dict(), help="The folder's entries, folders first, then files, by name.")
    selected = Unicode("", help="Path of the selected file (previewed).")
    preview = Unicode("", help="Text of the selected file (first 200 kB), or a note for binary files.")
    pending_delete = Unicode("", help="Path waiting for the delete confirmation.")
    download_name = Unicode("", help="Name of the file last prepared for download.")
    download_size = Int(0, help="Its size in bytes.")
    isolation = Unicode("", help="How GravixLayer Local isolates this sandbox (empty on the cloud: its own VM).")

    def __init__(self, sandbox: Any, client: Any = None, *, path: str = HOME, load: bool = True, **kwargs: Any) -> None:
        super().__init__(client=client, **kwargs)
        self.sandbox_id = sandbox if isinstance(sandbox, str) else sandbox.sandbox_id
        self._api = self.client.sandbox.sandboxes
        self._isolation = w.HTML()
        self._isolation.add_class("gravix-isolation")
        self.observe(self._render_isolation, names="isolation")
        self.isolation = self._isolation_of(sandbox)
        self._where = w.HTML()
        self._where.add_class("gravix-path")
        self._up_button = button("Up", icon="arrow-up", name="up")
        self._refresh_button = button("Refresh", icon="refresh", name="refresh")
        self._list = w.VBox()
        self._list.add_class("gravix-entries")
        self._preview = w.HTML()
        self._preview.add_class("gravix-preview")
        self._upload = w.FileUpload(multiple=True, description="Upload")
        self._folder_name = w.Text(placeholder="new folder name")
        self._mkdir_button = button("Create folder", icon="folder", name="mkdir")
        self._download_button = button("Download", icon="download", name="download")
        self._delete_button = button("Delete", icon="trash", style="danger", name="delete")
        self._link = w.HTML()
        self._confirm_label = w.HTML()
        self._confirm_box = w.HBox(
            [self._confirm_label, button("Confirm delete", style="danger", name="confirm"), button("Cancel", name="cancel")]
        )
        self._confirm_box.layout.display = "none"
        confirm, cancel = self._confirm_box.children[1], self._confirm_box.children[2]
        assert isinstance(confirm, w.Button) and isinstance(cancel, w.Button)
        confirm.on_click(lambda _: self.confirm_delete())
        cancel.on_click(lambda _: self.cancel_delete())
        self._up_button.on_click(lambda _: self.up())
        self._refresh_button.on_click(lambda _: self.refresh())
        self._mkdir_button.on_click(lambda _: self.create_folder(self._folder_name.value))
        self._download_button.on_click(lambda _: self.prepare_download())
        self._delete_button.on_click(lambda _: self.request_delete())
        self._upload.observe(self._on_upload, names="value")
        self.children = [
            w.HBox([self._up_button, self._refresh_button, self._where, self._isolation]),
            self._list,
            w.HBox([self._upload, self._folder_name, self._mkdir_button]),
            w.HBox([self._download_button, self._delete_button, self._link]),
            self._confirm_box,
            self._preview,
            self._status,
        ]
        self._render_path()
        if load:
            self.open_folder(path)
        else:
            self.path = path

    def _isolation_of(self, sandbox: Any) -> str:
        value = getattr(sandbox, "isolation", None) if not isinstance(sandbox, str) else None
        if value is None and isinstance(sandbox, str):
            try:
                value = getattr(self._api.get(sandbox), "isolation", None)
            except Exception:  # the browser works without it; the header just does not say
                value = None
        return str(value or "")

    def _render_isolation(self, change: Any = None) -> None:
        self._isolation.value = (
            f'<span style="color:#666;margin-left:1em" title="how GravixLayer Local isolates this sandbox">'
            f"isolation: <b>{esc(self.isolation)}</b></span>"
            if self.isolation else ""
        )  # fmt: skip

    # -- navigation ---------------------------------------------------------------------------------

    def _abs(self, name: str) -> str:
        return name if name.startswith("/") else posixpath.normpath(posixpath.join(self.path, name))

    def open_folder(self, path: str) -> None:
        """Show the folder `path` (absolute, or relative to the current folder)."""
        target = self._abs(path)
        try:
            listing = self._api.list_files(self.sandbox_id, target)
        except Exception as exc:
            self._fail(f"open {target}", exc)
            return
        items = [_entry(f, target) for f in listing]
        items.sort(key=lambda e: (not e["is_dir"], e["name"].lower()))
        self.selected = ""
        self.path = target
        self.entries = items
        folders = sum(e["is_dir"] for e in items)
        self._ok(f"{target}: {plural(folders, 'folder')}, {plural(len(items) - folders, 'file')}")

    def refresh(self) -> None:
        self.open_folder(self.path)

    def up(self) -> None:
        if self.path != "/":
            self.open_folder(posixpath.dirname(self.path.rstrip("/")) or "/")

    def select(self, path: str) -> None:
        """Select a file and preview it (a folder is opened instead)."""
        target = self._abs(path)
        entry = next((e for e in self.entries if e["path"] == target), None)
        if entry is not None and entry["is_dir"]:
            self.open_folder(target)
            return
        self.selected = target
        self._load_preview(entry)

    def _load_preview(self, entry: dict[str, Any] | None) -> None:
        size = entry["size"] if entry else None
        if size is not None and size > _PREVIEW_BYTES:
            self.preview = f"({size:,} bytes: too large to preview; use Download)"
            return
        try:
            data = self._api.download_file(self.sandbox_id, self.selected)
        except Exception as exc:
            self._fail(f"read {self.selected}", exc)
            return
        if b"\x00" in data[:8192]:
            self.preview = f"(binary file, {len(data):,} bytes)"
            return
        self.preview = data[:_PREVIEW_BYTES].decode("utf-8", errors="replace")

    # -- changes ------------------------------------------------------------------------------------

    def upload(self, name: str, data: bytes) -> None:
        """Write `data` as `name` in the current folder."""
        dest = self._abs(name)
        try:
            self._api.upload_file(self.sandbox_id, bytes(data), dest)
        except Exception as exc:
            self._fail(f"upload {name}", exc)
            return
        self.refresh()
        self._ok(f"uploaded {name} ({len(data):,} bytes) to {self.path}")

    def _on_upload(self, change: Any) -> None:
        for item in change["new"] or ():
            self.upload(item["name"], bytes(item["content"]))

    def create_folder(self, name: str) -> None:
        name = name.strip()
        if not name:
            self.error = "type a folder name first"
            return
        try:
            self._api.make_directory(self.sandbox_id, self._abs(name))
        except Exception as exc:
            self._fail(f"create folder {name}", exc)
            return
        self._folder_name.value = ""
        self.refresh()
        self._ok(f"created folder {name}")

    def prepare_download(self, path: str | None = None) -> bytes | None:
        """Fetch the selected file; the widget shows a download link, the method returns the bytes."""
        target = self._abs(path) if path else self.selected
        if not target:
            self.error = "select a file first"
            return None
        try:
            data: bytes = self._api.download_file(self.sandbox_id, target)
        except Exception as exc:
            self._fail(f"download {target}", exc)
            return None
        name = posixpath.basename(target)
        self.download_name, self.download_size = name, len(data)
        if len(data) <= _DOWNLOAD_BYTES:
            href = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
            self._link.value = f'<a download="{esc(name)}" href="{href}">save {esc(name)} ({len(data):,} bytes)</a>'
        else:
            self._link.value = f"{esc(name)} is {len(data):,} bytes: use sandbox.filesystem.download() instead"
        self._ok(f"{name} ready to save")
        return data

    def request_delete(self, path: str | None = None) -> None:
        target = self._abs(path) if path else self.selected
        if not target:
            self.error = "select a file or folder first"
            return
        self.pending_delete = target

    def confirm_delete(self) -> None:
        target = self.pending_delete
        if not target:
            self.error = "nothing to confirm: press Delete first"
            return
        try:
            self._api.delete_file(self.sandbox_id, target)
        except Exception as exc:
            self._fail(f"delete {target}", exc)
            return
        finally:
            self.pending_delete = ""
        self.refresh()
        self._ok(f"deleted {target}")

    def cancel_delete(self) -> None:
        self.pending_delete = ""
        self._ok("delete cancelled")

    # -- rendering -----------------------------------------------------------------------------------

    @observe("path")
    def _render_path(self, change: Any = None) -> None:
        self._where.value = f"<code>{esc(self.path)}</code>"

    @observe("entries")
    def _render_entries(self, change: Any = None) -> None:
        rows = []
        for entry in self.entries[:_MAX_ENTRIES]:
            label = ("\U0001f4c1 " + entry["name"] + "/") if entry["is_dir"] else ("\U0001f4c4 " + entry["name"])
            b = button(label, name="folder" if entry["is_dir"] else "file")
            b.layout.width = "auto"
            b.on_click(lambda _, p=entry["path"]: self.select(p))
            size = "" if entry["is_dir"] else f"{entry['size'] or 0:,} B"
            rows.append(w.HBox([b, w.HTML(f'<span style="color:#666">{esc(size)} {esc(entry["modified"])}</span>')]))
        if not rows:
            rows = [w.HTML("<i>(empty folder)</i>")]
        self._list.children = rows

    @observe("preview", "selected")
    def _render_preview(self, change: Any = None) -> None:
        if not self.selected:
            self._preview.value = ""
            return
        self._preview.value = (
            f"<div><b>{esc(self.selected)}</b></div>"
            f'<pre style="max-height:20em;overflow:auto;border:1px solid #ddd;padding:4px">{esc(self.preview)}</pre>'
        )

    @observe("pending_delete")
    def _render_confirm(self, change: Any = None) -> None:
        if self.pending_delete:
            self._confirm_label.value = f"<b>Delete {esc(self.pending_delete)}?</b>"
        self._confirm_box.layout.display = "flex" if self.pending_delete else "none"

    def table_rows(self) -> list[list[Any]]:
        return [
            [e["name"] + ("/" if e["is_dir"] else ""), "folder" if e["is_dir"] else "file",
             "" if e["is_dir"] else e["size"], e["modified"]]
            for e in self.entries
        ]  # fmt: skip

    def plain_text(self) -> str:
        return f"SandboxFileBrowser {self.path}\n" + super().plain_text().split("\n", 1)[1]
