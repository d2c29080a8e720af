"""Notebook toolkit benchmarks: `%%gravix chat` time to first shown token vs a direct SDK stream,
`to_pandas()` on 100,000 search hits vs building the same DataFrame by hand, and `%load_ext` time.

Run: `.venv/bin/python -m tests.bench.bench_notebook` (not collected by pytest). Ratios are the
toolkit's cost over the baseline's (lower is better; 1.00 = no overhead).
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from typing import Any

from ._table import print_table, row

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
MESSAGES = [{"role": "user", "content": "Tell me a story about otters."}]


def _first_token(repeat: int) -> tuple[float, float]:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from gravixlayer.local import LocalServer
    from gravixlayer_notebook._client import default_provider

    with LocalServer(chat_engine="standin") as server:  # the magics' cost, not the model's
        client = server.client
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "gravixlayer_notebook")
        magics = shell.magics_manager.registry["GravixMagics"]
        default_provider().set_client(client, kind="local")
        magics.stream = True
        sdk_times, magic_times = [], []
        for _ in range(repeat + 2):  # two warm-up rounds
            start = time.perf_counter()
            stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    sdk_times.append(time.perf_counter() - start)
                    break
            stream.close()
            with capture_output():
                shell.run_cell_magic("gravix", f"chat {MODEL} --no-history", MESSAGES[0]["content"])
            magic_times.append(magics.timings["first_token_shown"] - magics.timings["start"])
        return statistics.median(magic_times[2:]), statistics.median(sdk_times[2:])


def _hits(n: int) -> Any:
    from gravixlayer.types.vectors import SearchResponse

    rng = random.Random(1)
    hits = [
        {"id": f"vec-{i}", "score": rng.random(),
         "metadata": {"category": rng.choice("abcde"), "n": i, "source": {"kind": "doc", "page": i % 40}}}
        for i in range(n)
    ]  # fmt: skip
    return SearchResponse.model_validate({"hits": hits, "query_time_ms": 1})


def _by_hand(resp: Any) -> Any:
    import pandas as pd

    hits = resp.hits
    return pd.DataFrame({
        "id": [h.id for h in hits],
        "score": [h.score for h in hits],
        "metadata.category": [h.metadata.get("category") for h in hits],
        "metadata.n": [h.metadata.get("n") for h in hits],
        "metadata.source.kind": [h.metadata.get("source", {}).get("kind") for h in hits],
        "metadata.source.page": [h.metadata.get("source", {}).get("page") for h in hits],
    })  # fmt: skip


def _to_pandas(n: int, repeat: int) -> tuple[float, float]:
    import pandas  # noqa: F401 - imported before timing, as in a notebook

    resp = _hits(n)
    assert list(resp.to_pandas().columns) == list(_by_hand(resp).columns)
    ours, hand = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        resp.to_pandas()
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        _by_hand(resp)
        hand.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(hand)


def _load_ext(runs: int) -> tuple[float, float]:
    code = (
        "import time; from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance(); "
        "t = time.perf_counter(); ip.run_line_magic('load_ext', '{ext}'); print(time.perf_counter() - t)"
    )

    def once(ext: str) -> float:
        out = subprocess.run([sys.executable, "-c", code.format(ext=ext)], capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    ours = statistics.median(once("gravixlayer_notebook") for _ in range(runs))
    base = statistics.median(once("autoreload") for _ in range(runs))
    return ours, base


def run(repeat: int = 15) -> list[dict[str, Any]]:
    rows = []
    magic, sdk = _first_token(repeat)
    rows.append(row("%%gravix chat: start -> first token shown (stream)", magic * 1000, sdk * 1000, "ms",
                    "SDK stream first token"))  # fmt: skip
    ours, hand = _to_pandas(100_000, 5)
    rows.append(row("SearchResponse.to_pandas(), 100,000 hits with metadata", ours * 1000, hand * 1000, "ms",
                    "by-hand lists + DataFrame"))  # fmt: skip
    load, base = _load_ext(5)
    rows.append(row("%load_ext gravixlayer_notebook", load * 1000, base * 1000, "ms", "%load_ext autoreload"))
    return rows


if __name__ == "__main__":
    print_table(run())
