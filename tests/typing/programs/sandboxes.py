"""A user's sandbox program: run code and commands, read a file back."""

from __future__ import annotations

from gravixlayer import GravixLayer


def main(client: GravixLayer) -> None:
    with client.sandbox.sandboxes.create(provider="aws", region="us-east-1", template="python-base-v1") as sb:
        context = sb.create_code_context()
        sb.run_code("x = 21", context_id=context.id)
        result = sb.run_code("x * 2", context_id=context.id)
        print(result.results, result.logs)
        listing = sb.run_command("ls", args=["-la"], timeout=10)
        print(listing.stdout, listing.exit_code)
        sb.filesystem.write("notes.txt", "hello")
        text: str = sb.filesystem.read("notes.txt")
        print(text)
