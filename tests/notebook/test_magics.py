"""`%gravix` / `%%gravix` end to end: against GravixLayer Local, and against scripted servers for faults."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from gravixlayer import GravixLayerNotFoundError
from gravixlayer.local import LocalServer
from gravixlayer_notebook._completer import MATCHER_ID
from gravixlayer_notebook._magics import GravixMagics
from gravixlayer_notebook._results import ChatResult, EmbedResult

from .conftest import InterruptingStream, Recorder, completion_json, scripted_client, sse

MODEL = "qwen/qwen-2.5-vl-7b-instruct"


def chat(ip: InteractiveShell, line: str, cell: str) -> Any:
    return ip.run_cell_magic("gravix", line, cell)


# -- loading ---------------------------------------------------------------------------------------


def test_extension_registers_and_unregisters_the_magics(ip: InteractiveShell) -> None:
    assert "gravix" in ip.magics_manager.magics["cell"] and "gravix" in ip.magics_manager.magics["line"]
    ip.run_line_magic("unload_ext", "gravixlayer_notebook")
    try:
        assert "gravix" not in ip.magics_manager.magics["cell"]
        assert MATCHER_ID not in [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers]
    finally:
        ip.run_line_magic("load_ext", "gravixlayer_notebook")
    assert "gravix" in ip.magics_manager.magics["cell"]
    assert MATCHER_ID in [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers]


def test_config_traitlets_are_reachable_with_percent_config(ip: InteractiveShell, magics: GravixMagics) -> None:
    ip.run_line_magic("config", f"GravixMagics.default_model = '{MODEL}'")
    ip.run_line_magic("config", "GravixMagics.max_history = 3")
    assert magics.default_model == MODEL and magics.max_history == 3
    from traitlets import TraitError

    with pytest.raises(TraitError, match="max_history must be 0 or more"):
        magics.max_history = -1


def test_settings_come_from_environment_variables(magics: GravixMagics, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAVIXLAYER_NOTEBOOK_MODEL", "test-model")
    monkeypatch.setenv("GRAVIXLAYER_NOTEBOOK_STREAM", "off")
    monkeypatch.setenv("GRAVIXLAYER_NOTEBOOK_FORMAT", "text")
    monkeypatch.setenv("GRAVIXLAYER_NOTEBOOK_MAX_HISTORY", "4")
    fresh = GravixMagics(shell=None)
    assert (fresh.default_model, fresh.stream, fresh.format, fresh.max_history) == ("test-model", False, "text", 4)


# -- chat ------------------------------------------------------------------------------------------


def test_chat_answers_with_the_same_text_as_a_direct_sdk_call(ip: InteractiveShell, magics: GravixMagics, local_server: LocalServer) -> None:
    result = chat(ip, f"chat {MODEL} -o answer", "Hello there!")
    direct = local_server.client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello there!"}])
    assert isinstance(result, ChatResult)
    assert result.text == direct.text and result.text
    assert result.model == MODEL and result.finish_reason == "stop"
    assert result.usage and result.usage["total_tokens"] > 0
    assert result.request_id
    assert ip.user_ns["answer"] is result
    bundle, meta = result._repr_mimebundle_()
    assert bundle["text/markdown"] == result.text and bundle["text/plain"] == result.text
    assert meta["text/markdown"]["gravixlayer"]["model"] == MODEL


def test_chat_result_becomes_the_cells_value(ip: InteractiveShell, magics: GravixMagics) -> None:
    outcome = ip.run_cell(f"%%gravix chat {MODEL}\nWhat is a cell value?", store_history=True)
    assert outcome.success, outcome.error_in_exec
    assert isinstance(outcome.result, ChatResult)
    assert "What is a cell value?" in outcome.result.text  # the stand-in echoes the prompt


def test_history_is_sent_along_and_kept_across_cells(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    answers = iter(["first answer", "second answer", "third answer", "fourth"])
    use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json(next(answers))), rec))
    chat(ip, "chat --system 'be brief'", "question one")
    chat(ip, "chat", "question two")
    assert rec.bodies[1]["messages"] == [
        {"role": "user", "content": "question one"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "question two"},
    ]
    assert rec.bodies[0]["messages"][0] == {"role": "system", "content": "be brief"}
    chat(ip, "chat --new", "question three")
    assert rec.bodies[2]["messages"] == [{"role": "user", "content": "question three"}]
    ip.run_line_magic("gravix", "reset")
    chat(ip, "chat --no-history", "question four")
    assert rec.bodies[3]["messages"] == [{"role": "user", "content": "question four"}]
    assert ip.run_line_magic("gravix", "history").empty


def test_max_history_limits_the_exchanges_sent(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    magics = use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json("ok")), rec))
    magics.max_history = 1
    for i in range(3):
        chat(ip, "chat", f"q{i}")
    assert [m["content"] for m in rec.bodies[2]["messages"]] == ["q1", "ok", "q2"]
    magics.max_history = 0
    chat(ip, "chat", "q3")
    assert [m["content"] for m in rec.bodies[3]["messages"]] == ["q3"]


def test_history_is_a_dataframe_with_typed_columns(ip: InteractiveShell, magics: GravixMagics) -> None:
    chat(ip, f"chat {MODEL}", "one")
    chat(ip, f"chat {MODEL}", "two")
    df = ip.run_line_magic("gravix", "history -o hist")
    assert isinstance(df, pd.DataFrame) and ip.user_ns["hist"] is df
    assert list(df.columns) == ["turn", "role", "content", "model", "created_at", "tokens", "interrupted"]
    assert list(df["role"]) == ["user", "assistant", "user", "assistant"]
    assert list(df["turn"]) == [1, 1, 2, 2]
    assert list(df["content"])[::2] == ["one", "two"]
    assert str(df["created_at"].dt.tz) == "UTC"
    assert df["tokens"].dtype == "Int64" and (df["tokens"] > 0).all()


# -- streaming -------------------------------------------------------------------------------------


def test_streaming_updates_one_display_in_place_and_matches_the_non_streamed_text(ip: InteractiveShell, magics: GravixMagics) -> None:
    magics.stream = True
    with capture_output() as cap:
        streamed = chat(ip, f"chat {MODEL} --no-history", "Stream this please")
    outputs = cap.outputs
    assert len(outputs) >= 3
    display_ids = {o.transient.get("display_id") for o in outputs if o.transient}
    assert len(display_ids) == 1  # one display, updated in place
    assert not outputs[0].update and all(o.update for o in outputs[1:])
    assert outputs[1].data["text/plain"]  # the first token was shown before the answer finished
    assert outputs[-1].data == {"text/plain": ""}  # the live text steps aside for the cell's value
    magics.stream = False
    with capture_output() as cap:
        whole = chat(ip, f"chat {MODEL} --no-history", "Stream this please")
    assert cap.outputs == [] and streamed.text == whole.text
    assert "first_token_shown" not in magics.timings


def test_stream_auto_stays_off_where_output_cannot_update_in_place(ip: InteractiveShell, magics: GravixMagics) -> None:
    assert magics.stream == "auto"  # this shell is not a Jupyter kernel: like a terminal, nothing to update
    with capture_output() as cap:
        chat(ip, f"chat {MODEL}", "hi")
    assert cap.outputs == []


def test_stream_flags_override_the_setting(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()

    def handler(req: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        if body["stream"]:
            return httpx.Response(200, content=sse(["a", "b"]), headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=completion_json("ab"))

    magics = use_client(scripted_client(handler, rec))
    magics.stream = True
    with capture_output():
        assert chat(ip, "chat --no-stream", "x").text == "ab"
    magics.stream = False
    with capture_output():
        assert chat(ip, "chat --stream", "x").text == "ab"
    assert [b["stream"] for b in rec.bodies] == [False, True]


def test_ctrl_c_stops_the_stream_and_keeps_the_partial_text(ip: InteractiveShell, use_client: Any) -> None:
    streams: list[InterruptingStream] = []

    def handler(req: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        stream = InterruptingStream(sse(["Partial ", "answer"], done=False))
        streams.append(stream)
        return httpx.Response(200, stream=stream, headers={"content-type": "text/event-stream"})

    magics = use_client(scripted_client(handler))
    magics.stream = True
    with capture_output() as cap:
        result = chat(ip, "chat -o partial", "Tell me everything")
    assert result.interrupted and result.text == "Partial answer" and result.finish_reason == "interrupted"
    assert ip.user_ns["partial"] is result
    assert streams[0].closed
    assert cap.outputs[-1].data == {"text/plain": ""}
    assert "[interrupted: partial answer]" in repr(result)
    history = ip.run_line_magic("gravix", "history")
    assert list(history["interrupted"]) == [False, True]
    assert history["content"].iloc[1] == "Partial answer"


def test_complete_streams_and_answers_like_the_sdk(ip: InteractiveShell, magics: GravixMagics, local_server: LocalServer) -> None:
    direct = local_server.client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=12)
    magics.stream = True
    with capture_output() as cap:
        result = chat(ip, f"complete {MODEL} --max-tokens 12", "Once upon a time")
    assert result.kind == "completion" and result.text == direct.text
    assert cap.outputs and cap.outputs[-1].data == {"text/plain": ""}


@pytest.mark.parametrize("sub", ["chat", "complete"])
def test_streamed_and_whole_answers_carry_the_same_fields(ip: InteractiveShell, magics: GravixMagics, sub: str) -> None:
    results = []
    for stream in (True, False):
        magics.stream = stream
        with capture_output():
            results.append(chat(ip, f"{sub} {MODEL} --max-tokens 12" + (" --no-history" if sub == "chat" else ""), "Hello there"))
    streamed, whole = results
    for result in results:
        assert result.text and result.model and result.request_id and result.finish_reason
        assert result.usage is not None and result.usage["total_tokens"] > 0 and "counted" not in result.usage
    assert streamed.usage == whole.usage  # Local sends usage in the stream when asked (include_usage)
    assert streamed.metadata()["gravixlayer"].keys() == whole.metadata()["gravixlayer"].keys()


def test_a_stream_without_usage_is_counted_and_says_so(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    sse_headers = {"content-type": "text/event-stream", "x-request-id": "req-123"}
    magics = use_client(scripted_client(lambda req, body: httpx.Response(200, content=sse(["Hel", "lo", "!"]), headers=sse_headers), rec))
    magics.stream = True
    with capture_output():
        result = chat(ip, "chat --no-history", "Say hello to everyone")
    assert rec.bodies[0]["stream_options"] == {"include_usage": True}
    assert result.text == "Hello!" and result.request_id == "req-123" and result.model == "scripted"
    assert result.usage == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7, "counted": "client"}
# -- formats ---------------------------------------------------------------------------------------


def test_formats_render_as_asked(ip: InteractiveShell, use_client: Any) -> None:
    replies = iter(['```json\n{"a": 1, "b": [2]}\n```', "```python\nprint('hi')\n```", "plain *text*", "not json"])
    use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json(next(replies)))))
    as_json = chat(ip, "chat -f json", "x")
    assert as_json.data == {"a": 1, "b": [2]}
    assert as_json._repr_mimebundle_()[0]["application/json"] == {"a": 1, "b": [2]}
    as_code = chat(ip, "chat --format code", "x")
    assert as_code.code == "print('hi')"
    assert as_code._repr_mimebundle_()[0]["text/markdown"] == "```python\nprint('hi')\n```"
    as_text = chat(ip, "chat -f text", "x")
    assert set(as_text._repr_mimebundle_()[0]) == {"text/plain"}
    bad = chat(ip, "chat -f json", "x")
    assert "not valid JSON" in bad._repr_mimebundle_()[0]["text/markdown"]


# -- embed, models, listings -------------------------------------------------------------------------


def test_embed_gives_vectors_and_a_dataframe(ip: InteractiveShell, magics: GravixMagics, local_server: LocalServer) -> None:
    result = chat(ip, "embed baai/bge-small-en-v1.5 --lines -o emb", "a cat\n\na dog\n")
    assert isinstance(result, EmbedResult) and result.texts == ["a cat", "a dog"]
    assert result.dimensions == 384 and ip.user_ns["emb"] is result
    direct = local_server.client.embeddings.create(model="baai/bge-small-en-v1.5", input=["a cat"])
    assert result.vectors[0] == pytest.approx(direct.data[0].embedding, abs=1e-5)
    df = result.to_pandas()
    assert df["embedding"].iloc[0].dtype.name == "float32" and df["embedding"].iloc[0].shape == (384,)
    assert df["norm"].dtype == "float64"
    assert "embedding" not in result.to_pandas(embeddings=False).columns


def test_models_lists_chat_and_embedding_models(ip: InteractiveShell, magics: GravixMagics) -> None:
    table = ip.run_line_magic("gravix", "models")
    df = table.to_pandas()
    assert MODEL in set(df["id"]) and {"chat", "embedding"} <= set(df["type"])
    assert MODEL in table._repr_html_() and MODEL in repr(table)
    assert MODEL in magics.model_names("chat") and MODEL not in magics.model_names("embedding")


def test_help_lists_every_subcommand_and_per_subcommand_options(ip: InteractiveShell, magics: GravixMagics) -> None:
    text = repr(ip.run_line_magic("gravix", "help"))
    for sub in ("chat", "complete", "embed", "models", "deployments", "hardware", "files", "config", "history", "reset"):
        assert f"gravix {sub}" in text
    assert "--temperature" in repr(ip.run_line_magic("gravix", "help chat"))
    assert "help" in repr(ip.run_line_magic("gravix", ""))


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "cell", "expected"),
    [
        ("chat -t hot", "x", "option --temperature: expected a number from 0 to 2, got 'hot'"),
        ("chat --temperature 3", "x", "option --temperature: expected a number from 0 to 2, got 3"),
        ("chat --max-tokens 0", "x", "option --max-tokens: expected a whole number of at least 1, got 0"),
        ("chat --bogus", "x", "unknown option or extra argument: --bogus"),
        ("chat -f yaml", "x", "option --format: expected one of markdown, text, code, json, got 'yaml'"),
        ("chat -o 1abc", "x", "option --output: expected a Python variable name, got '1abc'"),
        ("chat", "   \n", "the cell is empty"),
        ("chta", "x", "unknown subcommand 'chta'; did you mean 'chat'?"),
        ("models", "some body", "takes no cell body"),
        ("chat 'unclosed", "x", "cannot read the options"),
    ],
)
def test_user_mistakes_are_one_line_usage_errors(ip: InteractiveShell, magics: GravixMagics, line: str, cell: str, expected: str) -> None:
    with pytest.raises(UsageError) as info:
        chat(ip, line, cell)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_line_form_of_a_cell_subcommand_says_how_to_use_it(ip: InteractiveShell, magics: GravixMagics) -> None:
    with pytest.raises(UsageError, match="works on a cell: put %%gravix chat"):
        ip.run_line_magic("gravix", "chat hello")


def test_usage_errors_show_one_line_and_no_traceback(ip: InteractiveShell, magics: GravixMagics, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_cell("%%gravix chat --temperature hot\nhello")
    err = capsys.readouterr()
    text = err.out + err.err
    assert "UsageError: %gravix chat: option --temperature" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1


def test_api_errors_become_one_line_with_a_hint(ip: InteractiveShell, magics: GravixMagics) -> None:
    with pytest.raises(UsageError) as info:
        chat(ip, "chat no-such-model", "hi")
    message = str(info.value)
    assert "GravixLayerNotFoundError" in message and "no-such-model" in message
    assert "hint: %gravix models lists the models" in message and "\n" not in message
    assert isinstance(info.value.__cause__, GravixLayerNotFoundError)
    magics.short_errors = False
    with pytest.raises(GravixLayerNotFoundError):
        chat(ip, "chat no-such-model", "hi")


def test_the_api_key_never_appears_in_errors_config_or_displays(ip: InteractiveShell, use_client: Any) -> None:
    secret = "sk-live-SECRET-do-not-show-42"

    def echo_key(req: httpx.Request, body: dict[str, Any]) -> httpx.Response:  # a server that echoes the header
        return httpx.Response(401, json={"error": f"bad key {req.headers['authorization']}", "code": "unauthorized"})

    use_client(scripted_client(echo_key, api_key=secret))
    with pytest.raises(UsageError) as info:
        chat(ip, "chat", "hi")
    assert secret not in str(info.value) and "****" in str(info.value)
    assert "hint: check the key" in str(info.value)
    config = ip.run_line_magic("gravix", "config")
    assert secret not in repr(config) and secret not in config._repr_html_() and "$TEST_KEY" in repr(config)
    from gravixlayer import GravixLayerAuthenticationError
    from gravixlayer_notebook._display import error_html, error_markdown

    err = GravixLayerAuthenticationError(f"key {secret} refused", status_code=401)
    assert secret not in error_html(err) and secret not in error_markdown(err)


# -- interpolation through the magic -------------------------------------------------------------------


def test_cells_are_interpolated_by_the_rules(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    magics = use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json("ok")), rec))
    ip.user_ns.update(topic="otters", n=3)
    cell = 'About {topic} x{n}: {{topic}}, {undefined}, {"k": {n}}, {n }, $topic'
    chat(ip, "chat --no-history", cell)
    chat(ip, "chat --no-history --no-interpolate", cell)
    magics.interpolate = False
    chat(ip, "chat --no-history", cell)
    sent = [b["messages"][-1]["content"] for b in rec.bodies]
    assert sent[0] == 'About otters x3: {topic}, {undefined}, {"k": 3}, {n }, $topic'
    assert sent[1] == sent[2] == cell


def test_the_magic_line_expands_dollar_and_brace_variables_like_ipython(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json("ok")), rec))
    ip.user_ns.update(sys_prompt="EXPANDED", chosen="scripted-model")
    chat(ip, 'chat $chosen --no-history --system "$sys_prompt"', "hi")  # '$x' stays literal, as in IPython
    ip.run_cell("%%gravix chat {chosen} --no-history --system '{sys_prompt}!'\nhi {sys_prompt}").raise_error()
    assert rec.bodies[0]["model"] == rec.bodies[1]["model"] == "scripted-model"
    assert rec.bodies[0]["messages"][0]["content"] == "EXPANDED"
    assert rec.bodies[1]["messages"][0]["content"] == "EXPANDED!"
    assert rec.bodies[1]["messages"][-1]["content"] == "hi EXPANDED"  # the body: our own {name} rules


# -- errors, explain, -f code ----------------------------------------------------------------------------


def test_failed_cells_are_kept_in_err_and_interpolated(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json("ok")), rec))
    failed = ip.run_cell("def half(x):\n    return x / 0\nhalf(4)", store_history=True)
    count = failed.execution_count
    assert ip.user_ns["Err"][count].name == "ZeroDivisionError"
    assert "return x / 0" in ip.user_ns["Err"][count].traceback and "IPython" not in ip.user_ns["Err"][count].traceback
    ok = ip.run_cell("21 * 2", store_history=True)
    chat(ip, "chat --no-history", f"Why did {{In[{count}]}} fail with {{Err[{count}]}}? And {{Out[{ok.execution_count}]}}?")
    sent = rec.bodies[-1]["messages"][-1]["content"]
    assert "half(4)" in sent and "ZeroDivisionError: division by zero" in sent and "And 42?" in sent


def test_explain_sends_the_failing_cell_and_its_traceback_and_streams_the_answer(ip: InteractiveShell, use_client: Any) -> None:
    rec = Recorder()
    sse_headers = {"content-type": "text/event-stream"}

    def answer(req: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        if body["stream"]:
            return httpx.Response(200, content=sse(["Divide ", "by 2."]), headers=sse_headers)
        return httpx.Response(200, json=completion_json("Divide by 2."))

    magics = use_client(scripted_client(answer, rec))
    magics.stream = True
    first = ip.run_cell("numbers = [1, 2]\nnumbers[5]", store_history=True).execution_count
    ip.run_cell("{}['missing']", store_history=True)
    with capture_output() as cap:
        result = ip.run_line_magic("gravix", f"explain --cell {first}")
    assert result.kind == "explain" and result.text == "Divide by 2."
    assert cap.outputs and cap.outputs[0].data["text/plain"] == ""  # the live output, streamed into
    user = rec.bodies[-1]["messages"][-1]["content"]
    assert "numbers[5]" in user and "IndexError: list index out of range" in user
    ip.run_line_magic("gravix", "explain --no-stream")  # default: the last error
    assert "KeyError: 'missing'" in rec.bodies[-1]["messages"][-1]["content"]
    with pytest.raises(UsageError, match=r"cell \[1\] raised no error"):
        ip.run_line_magic("gravix", "explain --cell 1")


def test_format_code_offers_the_code_as_the_next_cell(ip: InteractiveShell, use_client: Any) -> None:
    answer = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\nEnjoy."
    use_client(scripted_client(lambda req, body: httpx.Response(200, json=completion_json(answer))))
    ip.rl_next_input = None
    result = chat(ip, "chat -f code --no-stream --no-history", "add two numbers")
    assert ip.rl_next_input == "def add(a, b):\n    return a + b" == result.code
    ip.rl_next_input = None
    chat(ip, "chat --no-stream --no-history", "add two numbers")  # markdown: nothing offered
    assert ip.rl_next_input is None


def test_an_answer_cut_by_the_token_limit_says_so(ip: InteractiveShell, use_client: Any) -> None:
    cut_short = {**completion_json("Once upon a ti"), "choices": [{"index": 0, "message": {"role": "assistant", "content": "Once upon a ti"}, "finish_reason": "length"}]}
    use_client(scripted_client(lambda req, body: httpx.Response(200, json=cut_short)))
    result = chat(ip, "chat --no-stream --no-history --max-tokens 4", "Tell a story")
    data, _ = result._repr_mimebundle_()
    assert result.finish_reason == "length" and str(result) == "Once upon a ti"
    assert "token limit" in data["text/markdown"] and "token limit" in data["text/plain"]
