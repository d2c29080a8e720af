"""Per-request overhead, streaming, 100-text embedding batches and import time: gravixlayer vs raw httpx vs openai-python.

Ratios are gravixlayer's cost over the baseline's (lower is better; 1.00 = no overhead), measured side by
side in one run against one GravixLayer Local.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from gravixlayer import GravixLayer

from ._server import LocalProcess, local_process
from ._table import best_of, print_table, row

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBED = "microsoft/multilingual-e5-large"
MESSAGES = [{"role": "user", "content": "Hello!"}]


def _openai(server: LocalProcess) -> Any:
    try:
        import openai
    except ImportError:
        return None
    return openai


def import_times(runs: int = 7) -> dict[str, float]:
    def once(module: str) -> float:
        code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout)

    result = {}
    for module in ("httpx", "gravixlayer", "openai"):
        try:
            result[module] = statistics.median(once(module) for _ in range(runs))
        except subprocess.CalledProcessError:
            continue
    code = "import time; t=time.perf_counter(); from gravixlayer import GravixLayer; print(time.perf_counter()-t)"
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) for _ in range(runs)]
    result["from gravixlayer import GravixLayer"] = statistics.median(samples)
    return result


def run(n: int = 300) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # The fastest engines (stand-in chat, wordllama embeddings): these rows measure the client's cost;
    # bench_local_models.py measures the local models themselves.
    with local_process("--chat-engine", "standin", "--embedding-engine", "wordllama") as server:
        sdk = GravixLayer(api_key=server.api_key, base_url=server.base_url, max_retries=0)
        raw = httpx.Client(headers={"Authorization": f"Bearer {server.api_key}"})
        openai = _openai(server)
        oa = openai.OpenAI(api_key=server.api_key, base_url=server.base_url + "/v1/inference", max_retries=0) if openai else None
        emb_body = {"model": EMBED, "input": "The quick brown fox", "encoding_format": "float"}
        chat_body = {"model": MODEL, "messages": MESSAGES, "max_tokens": 16, "stream": False}
        url = server.base_url + "/v1/inference"
        for _ in range(50):  # warm up pools and the embedding model
            sdk.embeddings.create(**emb_body)
            raw.post(url + "/embeddings", json=emb_body).json()

        t_sdk = best_of(lambda: sdk.embeddings.create(**emb_body), number=n)
        t_raw = best_of(lambda: raw.post(url + "/embeddings", json=emb_body).json(), number=n)
        rows.append(row("embeddings.create, 1 short text (per request)", t_sdk * 1e3, t_raw * 1e3, "ms", "raw httpx.Client"))
        if oa is not None:
            t_oa = best_of(lambda: oa.embeddings.create(model=EMBED, input="The quick brown fox", encoding_format="float"), number=n)
            rows.append(row("embeddings.create, 1 short text (per request)", t_sdk * 1e3, t_oa * 1e3, "ms", "openai-python"))

        t_sdk = best_of(lambda: sdk.chat.completions.create(**chat_body), number=n)
        t_raw = best_of(lambda: raw.post(url + "/chat/completions", json=chat_body).json(), number=n)
        rows.append(row("chat.completions.create, small (per request)", t_sdk * 1e3, t_raw * 1e3, "ms", "raw httpx.Client"))
        if oa is not None:
            t_oa = best_of(lambda: oa.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=16), number=n)
            rows.append(row("chat.completions.create, small (per request)", t_sdk * 1e3, t_oa * 1e3, "ms", "openai-python"))

        rows += _embeddings_batch(sdk, oa, n=max(3, n // 30))
        rows += _streaming(server, sdk, raw, oa)
        sdk.close()
        raw.close()
    imports = import_times()
    rows.append(row("import gravixlayer (fresh interpreter, median)", imports["gravixlayer"] * 1e3, imports["httpx"] * 1e3, "ms", "import httpx"))
    if "openai" in imports:
        rows.append(row("import gravixlayer (fresh interpreter, median)", imports["gravixlayer"] * 1e3, imports["openai"] * 1e3, "ms", "import openai"))
    rows.append(row("from gravixlayer import GravixLayer", imports["from gravixlayer import GravixLayer"] * 1e3, imports["httpx"] * 1e3, "ms", "import httpx"))
    return rows


def _embeddings_batch(sdk: GravixLayer, oa: Any, n: int) -> list[dict[str, Any]]:
    """100 texts at 1024 dimensions, each SDK with its default wire format (both ask for base64).

    Measured twice: against Local (the whole call), and on a canned answer through httpx's MockTransport,
    which leaves only what the client pays: building the request, reading and decoding the body.
    """
    import base64
    import json

    import numpy
    import openai

    texts = [f"document number {i} about the quick brown fox" for i in range(100)]
    rows: list[dict[str, Any]] = []
    if oa is None:
        return rows
    t_sdk = best_of(lambda: sdk.embeddings.create(model=EMBED, input=texts), number=n)
    t_oa = best_of(lambda: oa.embeddings.create(model=EMBED, input=texts), number=n)
    rows.append(row("embeddings.create, 100 x 1024-d (Local, whole call)", t_sdk * 1e3, t_oa * 1e3, "ms", "openai-python"))

    vectors = numpy.random.default_rng(0).standard_normal((100, 1024)).astype("<f4")

    def answer(request: httpx.Request) -> httpx.Response:
        fmt = json.loads(request.read()).get("encoding_format", "float")
        data = [
            {"object": "embedding", "index": i,
             "embedding": base64.b64encode(v.tobytes()).decode() if fmt == "base64" else v.tolist()}
            for i, v in enumerate(vectors)
        ]  # fmt: skip
        return httpx.Response(200, json={"object": "list", "data": data, "model": EMBED, "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    cache: dict[str, httpx.Response] = {}

    def canned(request: httpx.Request) -> httpx.Response:
        key = request.content.decode()
        if key not in cache:
            cache[key] = answer(request)
        cached = cache[key]
        return httpx.Response(200, content=cached.content, headers={"content-type": "application/json"})

    mock_sdk = GravixLayer(api_key="k", base_url="http://bench", http_client=httpx.Client(transport=httpx.MockTransport(canned)))
    mock_oa = openai.OpenAI(api_key="k", base_url="http://bench/v1/inference", http_client=httpx.Client(transport=httpx.MockTransport(canned)))
    mock_sdk.embeddings.create(model=EMBED, input=texts)
    mock_oa.embeddings.create(model=EMBED, input=texts)
    t_sdk = best_of(lambda: mock_sdk.embeddings.create(model=EMBED, input=texts), number=n * 5)
    t_oa = best_of(lambda: mock_oa.embeddings.create(model=EMBED, input=texts), number=n * 5)
    t_float = best_of(lambda: mock_sdk.embeddings.create(model=EMBED, input=texts, encoding_format="float"), number=n * 5)
    rows.append(row("embeddings.create, 100 x 1024-d (client cost only)", t_sdk * 1e3, t_oa * 1e3, "ms", "openai-python"))
    rows.append(row("embeddings 100 x 1024-d: base64 vs float wire (client)", t_sdk * 1e3, t_float * 1e3, "ms", "gravixlayer float wire"))
    return rows


def _streaming(server: LocalProcess, sdk: GravixLayer, raw: httpx.Client, oa: Any) -> list[dict[str, Any]]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Tell me a long story."}], "max_tokens": 400, "stream": True}
    url = server.base_url + "/v1/inference/chat/completions"

    def via_sdk() -> tuple[float, float, int]:
        start = time.perf_counter()
        first = 0.0
        count = 0
        for _chunk in sdk.chat.completions.create(**body):  # type: ignore[union-attr]
            if not count:
                first = time.perf_counter() - start
            count += 1
        return first, time.perf_counter() - start, count

    def via_raw() -> tuple[float, float, int]:
        import json

        start = time.perf_counter()
        first = 0.0
        count = 0
        with raw.stream("POST", url, json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    if not count:
                        first = time.perf_counter() - start
                    count += 1
        return first, time.perf_counter() - start, count

    def via_openai() -> tuple[float, float, int]:
        start = time.perf_counter()
        first = 0.0
        count = 0
        for _chunk in oa.chat.completions.create(model=MODEL, messages=body["messages"], max_tokens=400, stream=True):
            if not count:
                first = time.perf_counter() - start
            count += 1
        return first, time.perf_counter() - start, count

    # Interleaved (sdk, raw, openai, sdk, raw, ...): on a shared, noisy machine, load that drifts during
    # the run then weighs on every contender alike instead of on whichever happened to run in a bad spell.
    contenders = {"sdk": via_sdk, "raw": via_raw}
    if oa is not None:
        contenders["openai"] = via_openai
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name in contenders}
    for fn in contenders.values():
        fn()  # warm
    for _ in range(21):
        for name, fn in contenders.items():
            samples[name].append(fn())

    def summary(name: str) -> tuple[float, float]:
        return statistics.median(s[0] for s in samples[name]), statistics.median(s[2] / s[1] for s in samples[name])

    s_ttfc, s_rate = summary("sdk")
    r_ttfc, r_rate = summary("raw")
    rows = [
        row("chat stream: time to first chunk", s_ttfc * 1e3, r_ttfc * 1e3, "ms", "raw httpx iter_lines"),
        row("chat stream: chunks consumed per second", s_rate, r_rate, "chunks/s", "raw httpx iter_lines", higher_is_better=True),
    ]
    if oa is not None:
        o_ttfc, o_rate = summary("openai")
        rows += [
            row("chat stream: time to first chunk", s_ttfc * 1e3, o_ttfc * 1e3, "ms", "openai-python"),
            row("chat stream: chunks consumed per second", s_rate, o_rate, "chunks/s", "openai-python", higher_is_better=True),
        ]
    return rows


if __name__ == "__main__":
    print_table(run())
