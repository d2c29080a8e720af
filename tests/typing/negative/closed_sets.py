"""Values outside the closed sets of the wire contract."""

from __future__ import annotations

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> None:
    client.files.create(file=b"x", purpose="fine_tune")  # E
    client.vectors.indexes.create(name="i", dimension=3, metric="cosin")  # E
    client.embeddings.create(model="m", input="x", encoding_format="floats")  # E
    client.sandbox.sandboxes.run_code("6f1c2a4e-2b7d-4c1e-9d3a-0b5e8f7a1c2d", "print(1)", language="pyhton")  # E
