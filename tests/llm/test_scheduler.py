"""Concurrent generations share batched forward passes and still answer as they would alone.

Batching changes only the order of float sums (logits differ by ~1e-5), so a
batched answer is checked like the reference answers: by teacher forcing with
``NEAR_TIE`` tolerance, and on the robust fact ("Paris").
"""

from __future__ import annotations

import threading

import numpy as np
import openai

from gravixlayer.local import LocalServer
from gravixlayer.local.llm import LocalLLM
from gravixlayer.local.llm.engine import GenerationRequest, TextDelta
from gravixlayer.local.llm.sampling import SamplingParams
from gravixlayer.local.llm.scheduler import MAX_GENERATIONS, ThreadTuner

from .conftest import CHAT_MODEL, KEY
from .test_model import FRANCE_ANSWER, FRANCE_PROMPT

QUESTIONS = ["What is the capital of France?", "What is a CPU?", "Name a color.", "Say hello."]


def test_batched_pass_gives_each_sequence_its_own_logits(llm: LocalLLM) -> None:
    model = llm.load().model
    prompts = [FRANCE_PROMPT, FRANCE_PROMPT[:20], FRANCE_PROMPT + FRANCE_ANSWER[:4]]
    caches = [model.new_cache(capacity=8) for _ in prompts]
    for ids, cache in zip(prompts, caches, strict=True):
        model.forward(ids[:-1], cache)
    last = [ids[-1] for ids in prompts]
    alone = [model.forward([token], cache.copy()) for token, cache in zip(last, caches, strict=True)]
    batched = model.forward_steps(last, caches)
    assert batched.shape == (len(prompts), model.config.vocab)
    for row, expected, ids, cache in zip(batched, alone, prompts, caches, strict=True):
        np.testing.assert_allclose(row, expected, atol=2e-3, rtol=0)
        assert cache.length == len(ids)


def _answer(llm: LocalLLM, question: str, tokens: int) -> str:
    request = GenerationRequest(
        prompt_ids=llm.chat_prompt_ids([{"role": "user", "content": question}]),
        max_tokens=tokens,
        sampling=SamplingParams(temperature=0.0),
    )
    return "".join(e.text for e in llm.generate(request) if isinstance(e, TextDelta))


def test_concurrent_generations_are_batched_and_answer_as_alone(llm: LocalLLM) -> None:
    scheduler = llm.load().scheduler
    rows: list[int] = []
    original = scheduler._steps

    def counting(steps: list) -> None:  # type: ignore[type-arg]
        rows.append(len(steps))
        original(steps)

    scheduler._steps = counting  # type: ignore[method-assign]
    try:
        answers: dict[str, str] = {}
        barrier = threading.Barrier(len(QUESTIONS))

        def ask(question: str) -> None:
            barrier.wait()
            answers[question] = _answer(llm, question, 8)

        threads = [threading.Thread(target=ask, args=(q,)) for q in QUESTIONS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        del scheduler._steps
    assert set(answers) == set(QUESTIONS)
    assert "Paris" in answers["What is the capital of France?"]
    assert max(rows) > 1, f"no pass served two generations at once: {rows}"
    for question in QUESTIONS:
        assert answers[question].strip(), question


def test_a_failing_pass_reaches_the_caller_and_the_worker_goes_on(llm: LocalLLM) -> None:
    loaded = llm.load()
    cache = loaded.model.new_cache()
    try:
        loaded.scheduler.forward([loaded.model.config.vocab + 5], cache)  # no such token
    except IndexError:
        pass
    else:
        raise AssertionError("an out-of-vocabulary token did not fail")
    assert "Paris" in _answer(llm, "What is the capital of France?", 8)


def test_tuner_keeps_the_faster_thread_count_and_tries_the_other_rarely() -> None:
    tuner = ThreadTuner(2)
    first = tuner.threads()
    tuner.record(first, 0.30, 1)  # two threads, on a busy machine: slow
    second = tuner.threads()
    tuner.record(second, 0.06, 1)
    assert (first, second) == (2, 1)
    chosen = []
    for _ in range(200):
        threads = tuner.threads()
        chosen.append(threads)
        tuner.record(threads, 0.30 if threads == 2 else 0.06, 3)
    assert chosen.count(1) > 190 and chosen.count(2) >= 1
    assert tuner.current() == 1
    passes = 0
    while tuner.current() != 2:  # the machine frees up: the next try of two threads wins at once
        threads = tuner.threads()
        tuner.record(threads, 0.03 if threads == 2 else 0.06, 1)
        passes += 1
        assert passes <= 200, "two threads never won back"
    assert passes <= 110  # one try: 20 x (0.23 / 0.046) passes apart at most


def test_tuner_runs_prompts_on_one_thread_until_both_counts_are_measured() -> None:
    tuner = ThreadTuner(2)
    assert tuner.current() == 1
    tuner.record(tuner.threads(), 0.03, 1)
    assert tuner.current() == 1
    tuner.record(tuner.threads(), 0.06, 1)
    assert tuner.current() == 2


def test_tuner_with_one_core_never_changes() -> None:
    tuner = ThreadTuner(1)
    for _ in range(50):
        assert tuner.threads() == 1
        tuner.record(1, 0.05, 1)


def test_streams_a_client_abandons_free_their_places(llm_server: LocalServer) -> None:
    """More abandoned streams than places (16): a new request still gets answered at once."""
    client = openai.OpenAI(
        api_key=KEY, base_url=llm_server.base_url + "/v1/inference", max_retries=0, timeout=120
    )
    for _ in range(MAX_GENERATIONS + 2):
        stream = client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "Tell me a long story."}],
            max_tokens=200, stream=True,
        )  # fmt: skip
        next(iter(stream))
        stream.close()
    reply = client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}], max_tokens=8
    )
    assert "Paris" in (reply.choices[0].message.content or "")
