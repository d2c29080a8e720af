"""A user's files program: upload, list, download, delete."""

from __future__ import annotations

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> None:
    uploaded = client.files.create(file=b'{"a": 1}\n', purpose="fine-tune")
    print(uploaded.id, uploaded.filename, uploaded.bytes)
    if uploaded.id is None:  # the service's upload answer may lack it and the file may not be found
        raise SystemExit("upload not found")
    for item in client.files.list():
        print(item.id, item.purpose, item.created_at)
    data: bytes = client.files.content(uploaded.id)
    print(len(data))
    client.files.download(uploaded.id, "copy.jsonl")
    deleted = client.files.delete(uploaded.id)
    print(deleted.message)
