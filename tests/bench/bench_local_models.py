"""GravixLayer Local's own models, each in a fresh Local process, side by side with the fast options.

Chat: SmolLM2-135M-Instruct (numpy) vs the deterministic stand-in - the first request after start
(includes loading the model), time to the first streamed token of a short prompt, decode speed and the
server's resident memory with the model loaded. The issue's goals: load < 5 s, first token < 300 ms,
>= 30 tokens/s, < 1 GB resident. Embeddings: all-MiniLM-L6-v2 (int8 ONNX) vs wordllama - sentences per
second batched (goal >= 500/s) and one short text per request.
"""

from __future__ import annotations

import time
from typing import Any

import psutil

from gravixlayer import GravixLayer

from ._server import LocalProcess, local_process
from ._table import best_of, row

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBED = "microsoft/multilingual-e5-large"
SHORT = [{"role": "user", "content": "What is the capital of France?"}]
LONG = [{"role": "user", "content": "Write a short story about a robot who learns to paint."}]


def _client(server: LocalProcess) -> GravixLayer:
    return GravixLayer(api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=600)


def _chat_figures(engine: str, decode_tokens: int, repeat: int) -> dict[str, float]:
    with local_process("--chat-engine", engine) as server:
        client = _client(server)
        start = time.perf_counter()
        client.chat.completions.create(model=MODEL, messages=SHORT, max_tokens=1)
        first_request = time.perf_counter() - start

        def first_token() -> None:
            stream = client.chat.completions.create(model=MODEL, messages=SHORT, max_tokens=decode_tokens, stream=True)
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    break
            stream.close()

        ttft = best_of(first_token, repeat=repeat)
        rates = []
        for _ in range(repeat):
            start, count, first_at = time.perf_counter(), 0, 0.0
            for chunk in client.chat.completions.create(
                model=MODEL, messages=LONG, max_tokens=decode_tokens, stream=True, temperature=0.7, seed=1
            ):
                if chunk.choices and chunk.choices[0].delta.content:
                    count += 1
                    if count == 1:
                        first_at = time.perf_counter()
            if count > 1:
                rates.append((count - 1) / (time.perf_counter() - first_at))
        rss = psutil.Process(server.pid).memory_info().rss / 2**20
        client.close()
    return {"load": first_request, "ttft": ttft, "rate": sorted(rates)[len(rates) // 2], "rss": rss}


def _embedding_figures(engine: str, sentences: int) -> dict[str, float]:
    texts = [f"Sentence number {i} talks about {('tea', 'code', 'rain', 'music')[i % 4]} and a few other things." for i in range(sentences)]
    with local_process("--embedding-engine", engine) as server:
        client = _client(server)
        client.embeddings.create(model=EMBED, input="warm up")
        start = time.perf_counter()
        for i in range(0, sentences, 256):
            client.embeddings.create(model=EMBED, input=texts[i : i + 256])
        batched = sentences / (time.perf_counter() - start)
        single = best_of(lambda: client.embeddings.create(model=EMBED, input="The quick brown fox"), number=20)
        client.close()
    return {"batched": batched, "single": single}


def run(decode_tokens: int = 64, repeat: int = 3, sentences: int = 2000) -> list[dict[str, Any]]:
    llm = _chat_figures("smollm2", decode_tokens, repeat)
    standin = _chat_figures("standin", decode_tokens, repeat)
    vs = "stand-in model"
    rows = [
        row("local chat model: first request after start, s (goal < 5)", llm["load"], standin["load"], "s", vs),
        row("local chat model: first streamed token, short prompt (goal < 300)", llm["ttft"] * 1e3, standin["ttft"] * 1e3, "ms", vs),
        row(f"local chat model: decode, {decode_tokens} tokens (goal >= 30)", llm["rate"], standin["rate"], "tokens/s", vs),
        row("local chat model: Local's resident memory, model loaded (goal < 1024)", llm["rss"], standin["rss"], "MB", vs),
    ]
    minilm = _embedding_figures("minilm", sentences)
    words = _embedding_figures("wordllama", sentences)
    rows += [
        row(f"local embeddings: {sentences} sentences, batches of 256 (goal >= 500)", minilm["batched"], words["batched"], "sentences/s", "wordllama"),
        row("local embeddings: 1 short text (per call)", minilm["single"] * 1e3, words["single"] * 1e3, "ms", "wordllama"),
    ]
    return rows


if __name__ == "__main__":
    from ._table import print_table

    print_table(run())
