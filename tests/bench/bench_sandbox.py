"""Sandbox round trips on GravixLayer Local: `run_code("1+1")` in a persistent context vs a bare
`subprocess.run([sys.executable, "-c", "1+1"])`, side by side in one run on one machine.

Run: `.venv/bin/python -m tests.bench.bench_sandbox`. `run()` returns the rows for the all-benchmarks
runner; `ratio` is the SDK's time over the baseline's (below 1.00 the sandbox round trip is cheaper).
Local runs in its own process. The context round trip includes the HTTP request, the server, the kernel protocol and the answer's
parsing; the baseline starts a fresh interpreter each time, which is what a sandbox without
persistent contexts would cost at least.

"On the wire" rows send the same requests from `_wire.WireClient` (one keep-alive socket, no client
library): Local's own cost plus one loopback round trip. The last row puts the SDK's cost of a request
that does no work beside the same request on the wire: that difference is the HTTP client's share of
every SDK row above.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from gravixlayer import GravixLayer

from ._server import local_process
from ._table import best_of, print_table, row
from ._wire import WireClient


def run(rounds: int = 15, n: int = 20) -> list[dict[str, Any]]:
    with local_process() as server:  # its own process: the server does not share the client's GIL
        client = GravixLayer(api_key=server.api_key, base_url=server.base_url, max_retries=0)
        with client, client.sandbox.sandboxes.create(provider="gravix", region="local") as sandbox:
            context = sandbox.create_code_context()

            def in_context() -> None:
                assert sandbox.run_code("1+1", context_id=context.id).text == "2"

            def fresh_run() -> None:
                assert sandbox.run_code("1+1").text == "2"

            def command() -> None:
                assert sandbox.run_command("true", args=[]).exit_code == 0

            def bare_python() -> None:
                subprocess.run([sys.executable, "-c", "1+1"], check=True)

            def bare_true() -> None:
                subprocess.run(["true"], check=True)

            wire = WireClient(server.base_url, server.api_key)
            path = f"/v1/agents/sandboxes/{sandbox.sandbox_id}"

            def wire_in_context() -> None:
                answer = wire.request("POST", path + "/code/run", {"code": "1+1", "context_id": context.id})
                assert answer["results"][0]["text"] == "2"

            def wire_command() -> None:
                assert wire.request("POST", path + "/commands/run", {"command": "true", "args": []})["exit_code"] == 0

            def sdk_get() -> None:
                client.sandbox.sandboxes.get(sandbox.sandbox_id)

            def wire_get() -> None:
                wire.request("GET", path)

            def create_and_kill() -> None:
                made = client.sandbox.sandboxes.create(provider="gravix", region="local")
                client.sandbox.sandboxes.kill(made.sandbox_id)

            for warm in (in_context, fresh_run, command, bare_python, bare_true, wire_in_context, wire_command):
                warm()
            persistent = best_of(in_context, repeat=rounds, number=n)
            python = best_of(bare_python, repeat=rounds, number=max(1, n // 4))
            one_shot = best_of(fresh_run, repeat=rounds, number=max(1, n // 4))
            cmd = best_of(command, repeat=rounds, number=max(1, n // 4))
            true = best_of(bare_true, repeat=rounds, number=max(1, n // 4))
            wire_persistent = best_of(wire_in_context, repeat=rounds, number=n)
            wire_cmd = best_of(wire_command, repeat=rounds, number=max(1, n // 4))
            client_floor = best_of(sdk_get, repeat=rounds, number=n)
            wire_floor = best_of(wire_get, repeat=rounds, number=n)
            wire.close()
            create = best_of(create_and_kill, repeat=max(3, rounds // 3), number=1)
            mode = str(sandbox.isolation)
    baseline = 'subprocess.run python -c "1+1"'
    return [
        row('sandbox run_code("1+1"), persistent context', persistent * 1e3, python * 1e3, "ms", baseline),
        row('sandbox run_code("1+1"), no context (new kernel)', one_shot * 1e3, python * 1e3, "ms", baseline),
        row(f'sandbox run_command("true") ({mode})', cmd * 1e3, true * 1e3, "ms", 'subprocess.run(["true"])'),
        row('sandbox run_code("1+1") in a context, on the wire (target < 1 ms)', wire_persistent * 1e3, python * 1e3, "ms", baseline),
        row(f'sandbox run_command("true") ({mode}), on the wire', wire_cmd * 1e3, true * 1e3, "ms", 'subprocess.run(["true"])'),
        row("sandbox get (no work): the SDK's HTTP floor", client_floor * 1e3, wire_floor * 1e3, "ms", "same request on the wire"),
        row(f"sandbox create + kill ({mode}; target < 300 ms)", create * 1e3, python * 1e3, "ms", baseline),
    ]


if __name__ == "__main__":
    print_table(run())
