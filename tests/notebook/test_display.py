"""Rich display of SDK objects: escaped cards and tables, shortened embeddings, errors, lazy registration."""

from __future__ import annotations

from typing import Any

from IPython.core.interactiveshell import InteractiveShell

from gravixlayer import GravixLayerNotFoundError
from gravixlayer.types.accelerators import AcceleratorList
from gravixlayer.types.embeddings import CreateEmbeddingResponse
from gravixlayer_notebook._display import error_html, model_html, model_markdown


def test_lists_render_as_escaped_tables(magics: Any) -> None:
    hw = AcceleratorList.model_validate({"data": [{"gpu_model": "<script>x</script>", "gpu_memory": 16, "pricing": 0.5}]})
    html = model_html(hw)
    assert "<table" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "| gpu_model |" in model_markdown(hw).replace("gpu_model | gpu_memory", "gpu_model |")


def test_embeddings_are_shortened(magics: Any) -> None:
    resp = CreateEmbeddingResponse.model_validate({"data": [{"embedding": [0.1] * 1024, "index": 0}], "model": "m"})
    html = model_html(resp)
    assert "1021 more" in html and html.count("0.1") < 10


def test_errors_render_as_cards(magics: Any) -> None:
    err = GravixLayerNotFoundError("no such <model>", status_code=404, code="model_not_found", request_id="req-1")
    html = error_html(err)
    assert "GravixLayerNotFoundError" in html and "no such &lt;model&gt;" in html and "req-1" in html


def test_formatters_are_registered_by_name_and_used(ip: InteractiveShell, magics: Any) -> None:
    hw = AcceleratorList.model_validate({"data": [{"gpu_model": "T4", "pricing": 0.39}]})
    data, _ = ip.display_formatter.format(hw)
    assert "<table" in data["text/html"] and "T4" in data["text/markdown"]
    err = GravixLayerNotFoundError("missing", status_code=404)
    assert "gravix-error" in ip.display_formatter.format(err)[0]["text/html"]


# -- readable output ----------------------------------------------------------------------------------


def test_counts_use_the_right_number(ip: InteractiveShell, magics: Any) -> None:
    from gravixlayer.types.deployments import DeploymentList

    one = DeploymentList.model_validate({"data": [{"deployment_id": "d1", "deployment_name": "a"}]})
    two = DeploymentList.model_validate({"data": [{"deployment_id": "d1"}, {"deployment_id": "d2"}]})
    assert "DeploymentList</b>: 1 deployment<" in model_html(one) or "DeploymentList: 1 deployment<" in model_html(one)
    assert "**DeploymentList**: 1 deployment\n" in model_markdown(one)
    assert "2 deployments" in model_markdown(two) and "data" not in model_markdown(two).splitlines()[0]


def test_long_cells_are_cut_at_a_word_boundary() -> None:
    from gravixlayer_notebook._html import cut, plural, text_table

    sentence = "Once upon a time there was a little robot who wanted to learn everything"
    short = cut(sentence, 30)
    assert short == "Once upon a time there was a\u2026" and len(short) <= 30
    assert cut("x" * 50, 10) == "x" * 9 + "\u2026"  # one very long word: cut inside it
    table = text_table(["text"], [[sentence]], width=30)
    assert table.splitlines()[-1] == short
    assert [plural(n, w) for n, w in ((1, "deployment"), (0, "deployment"), (2, "memory"), (3, "index"))] == [
        "1 deployment", "0 deployments", "2 memories", "3 indexes",
    ]  # fmt: skip


def test_help_lines_wrap_between_words_within_88_columns(ip: InteractiveShell, magics: Any) -> None:
    from gravixlayer_notebook._args import HELP, SUBCOMMANDS, usage

    words = set(" ".join(HELP.split()).split(" "))
    for text in [HELP] + [usage(s) for s in SUBCOMMANDS]:
        assert max(len(line) for line in text.splitlines()) <= 88
    # no word was split: every word of the one-line summaries appears whole in the wrapped text
    assert {"conversation", "continues", "--no-interpolate", "GravixMagics"} <= words
    html = ip.run_line_magic("gravix", "help")._repr_html_()
    assert "word-break:normal" in html and "pre-wrap" in html


def test_a_failed_sandbox_run_shows_like_a_jupyter_exception(ip: InteractiveShell, magics: Any) -> None:
    from gravixlayer.types.sandbox import Execution

    tb = (
        "Traceback (most recent call last):\n  File \"<cell-1>\", line 2, in f\n    return 1/0\n"
        "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero\n"
    )
    run = Execution.model_validate({
        "stdout": "before\n", "exit_code": 1, "success": False,
        "error": {"name": "ZeroDivisionError", "value": "division by zero", "traceback": tb},
    })  # fmt: skip
    data, _ = ip.display_formatter.format(run)
    html, plain = data["text/html"], data["text/plain"]
    assert "text/markdown" not in data
    assert "0 results" not in plain and "\\n" not in plain and "\\n" not in html
    assert plain.splitlines()[:3] == ["before", "Traceback (most recent call last):", '  File "<cell-1>", line 2, in f']
    assert plain.rstrip().endswith("division by zero") and "\x1b[0;31m" in plain  # colours left to the terminal
    assert '<pre class="gravix-traceback"' in html and "\x1b" not in html
    assert '<span style="color:#e75c58;font-weight:bold">ZeroDivisionError</span>: division by zero' in html
    assert html.count("ZeroDivisionError") == 1  # the last line is shown once, in Jupyter's red
    assert "\n    return 1/0\n" in html  # line breaks kept
    ok = Execution.model_validate({"results": [{"text": "6", "is_main_result": True}], "exit_code": 0})
    assert ip.display_formatter.format(ok)[0]["text/plain"] == "6"


def test_ansi_colours_become_styled_spans() -> None:
    from gravixlayer_notebook._execution import ansi_to_html

    assert ansi_to_html("\x1b[1;32mok\x1b[0m <done>") == '<span style="font-weight:bold;color:#00a250">ok</span> &lt;done&gt;'
    assert ansi_to_html("\x1b[38;5;196mred\x1b[39m plain") == "red plain"
