"""`GravixMagics`: the `%gravix` line magic and `%%gravix` cell magic.

Settings are traitlets (`%config GravixMagics.default_model = "..."`, or `c.GravixMagics.*` in an
IPython config file); their defaults come from `GRAVIXLAYER_NOTEBOOK_*` environment variables.
"""

from __future__ import annotations

import difflib
import os
import time
from collections import ChainMap
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, CaselessStrEnum, Int, TraitError, Unicode, Union, default, validate

from ._args import CELL_SUBCOMMANDS, HELP, SUBCOMMANDS, parse, split_line, usage
from ._client import ClientProvider, default_provider
from ._errors import ErrorLog
from ._html import redact
from ._interpolate import interpolate
from ._results import FORMATS, ChatHistory, ChatResult, EmbedResult
from ._stream import BLANK, Live, read_stream, whole_answer

__all__ = ["GravixMagics", "DEFAULT_CHAT_MODEL", "DEFAULT_EMBEDDING_MODEL", "output_updates_in_place"]

DEFAULT_CHAT_MODEL = "mistralai/mistral-nemo-instruct-2407"
DEFAULT_EMBEDDING_MODEL = "microsoft/multilingual-e5-large"

_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


def output_updates_in_place(shell: Any) -> bool:
    """True in a Jupyter kernel: every Jupyter front end (JupyterLab, Notebook, VS Code, nbclient)
    applies display updates there. Terminal IPython cannot rewrite an output, so it gets the whole answer.
    Front ends that keep only the first version of an output can say so with `GravixMagics.stream = False`.
    """
    return type(shell).__name__ == "ZMQInteractiveShell"


def _hint(exc: BaseException) -> str | None:
    from gravixlayer import _exceptions as e

    if isinstance(exc, e.GravixLayerAuthenticationError):
        return "check the key, or use %gravix config --local for GravixLayer Local"
    if isinstance(exc, e.GravixLayerNotFoundError):
        return "%gravix models lists the models; check names and ids"
    if isinstance(exc, e.GravixLayerConnectionError):
        return "check %gravix config (--base-url) and the network"
    return None


@magics_class
class GravixMagics(Magics):
    """GravixLayer from notebook cells; see `%gravix help`."""

    default_model = Unicode(help="Chat/completion model used when a cell names none.").tag(config=True)
    embedding_model = Unicode(help="Embedding model used by %%gravix embed when the cell names none.").tag(config=True)
    stream = Union(
        [Bool(), CaselessStrEnum(["auto"])],
        help=(
            "Show answers as they arrive: 'auto' (where the front end updates output in place: a Jupyter "
            "kernel, not terminal IPython), True, or False (for front ends that keep only an output's first version)."
        ),
    ).tag(config=True)
    max_history = Int(help="How many earlier question/answer pairs %%gravix chat sends along (0 = none).").tag(
        config=True
    )
    format = CaselessStrEnum(FORMATS, help="Default rendering of answers: markdown, text, code or json.").tag(
        config=True
    )
    interpolate = Bool(True, help="Replace {name} tokens with variables' values.").tag(config=True)
    short_errors = Bool(True, help="Show errors as one line with a hint (False: full tracebacks).").tag(config=True)
    display_limit = Int(50, help="Rows shown by listing subcommands (all rows stay in -o / to_pandas()).").tag(
        config=True
    )

    @default("default_model")
    def _default_model(self) -> str:
        return os.environ.get("GRAVIXLAYER_NOTEBOOK_MODEL", "").strip() or DEFAULT_CHAT_MODEL

    @default("embedding_model")
    def _default_embedding_model(self) -> str:
        return os.environ.get("GRAVIXLAYER_NOTEBOOK_EMBEDDING_MODEL", "").strip() or DEFAULT_EMBEDDING_MODEL

    @default("stream")
    def _default_stream(self) -> bool | str:
        value = os.environ.get("GRAVIXLAYER_NOTEBOOK_STREAM", "").strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        return "auto"

    @validate("stream")
    def _validate_stream(self, proposal: Any) -> bool | str:
        value = proposal["value"]
        if isinstance(value, str):
            return value.lower()
        return bool(value)

    @default("max_history")
    def _default_max_history(self) -> int:
        value = os.environ.get("GRAVIXLAYER_NOTEBOOK_MAX_HISTORY", "").strip()
        return int(value) if value.isdigit() else 10

    @validate("max_history")
    def _validate_max_history(self, proposal: Any) -> int:
        if proposal["value"] < 0:
            raise TraitError("GravixMagics.max_history must be 0 or more")
        return int(proposal["value"])

    @default("format")
    def _default_format(self) -> str:
        value = os.environ.get("GRAVIXLAYER_NOTEBOOK_FORMAT", "").strip().lower()
        return value if value in FORMATS else "markdown"

    def __init__(self, shell: Any = None, provider: ClientProvider | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.provider = provider or default_provider()
        self.history = ChatHistory()
        self.errors = ErrorLog()  # filled by the post_run_cell hook that %load_ext installs
        self.timings: dict[str, float] = {}
        self._models: list[dict[str, Any]] | None = None

    # -- entry point ----------------------------------------------------------------------------

    @line_cell_magic
    def gravix(self, line: str, cell: str | None = None) -> Any:
        """GravixLayer from a cell: `%gravix help` lists the subcommands."""
        self.timings = {"start": time.perf_counter()}
        tokens = split_line(line)
        sub = tokens[0] if tokens else "help"
        if sub not in SUBCOMMANDS:
            close = difflib.get_close_matches(sub, SUBCOMMANDS, n=1)
            maybe = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"%gravix: unknown subcommand {sub!r}{maybe} (one of: {', '.join(SUBCOMMANDS)})")
        if sub in CELL_SUBCOMMANDS and cell is None:
            raise UsageError(
                f"%gravix {sub} works on a cell: put %%gravix {sub} [MODEL] [options] on the first line "
                "and the text below it"
            )
        if cell is not None and sub not in CELL_SUBCOMMANDS and cell.strip():
            raise UsageError(f"%%gravix {sub} takes no cell body; use the line form %gravix {sub}")
        args = parse(sub, tokens[1:])
        try:
            result = getattr(self, f"_do_{sub}")(args, cell)
        except UsageError:
            raise
        except Exception as exc:
            if not self.short_errors or not self._is_user_facing(exc):
                raise
            raise UsageError(self._one_line(sub, exc)) from exc
        output = getattr(args, "output", None)
        if output and result is not None:
            self._user_ns()[output] = result
        return result

    @staticmethod
    def _is_user_facing(exc: BaseException) -> bool:
        from gravixlayer import GravixLayerError

        return isinstance(exc, (GravixLayerError, LookupError, ValueError, ImportError))

    def _one_line(self, sub: str, exc: BaseException) -> str:
        text = " ".join(str(exc).split())
        hint = _hint(exc)
        line = f"%gravix {sub}: {type(exc).__name__}: {text}" + (f" (hint: {hint})" if hint else "")
        return redact(line, self.provider.api_key())

    # -- helpers ----------------------------------------------------------------------------------

    def _user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    def _client(self) -> Any:
        return self.provider.get()

    def _prompt(self, args: Any, cell: str | None) -> str:
        text = (cell or "").strip("\n")
        if self.interpolate and not args.no_interpolate:
            text, _ = interpolate(text, ChainMap({"Err": self.errors}, self._user_ns()))
        return text

    def _live(self, args: Any) -> bool:
        if args is not None and args.no_stream:
            return False
        if args is not None and args.stream:
            return True
        if self.stream == "auto":
            return output_updates_in_place(self.shell)
        return bool(self.stream)

    def _answer(self, args: Any, fmt: str, create: Any, prompt_texts: list[str]) -> dict[str, Any]:
        """Ask for the answer (streamed where the front end shows it in place) and read it into one shape."""
        if not self._live(args):
            return whole_answer(create(stream=False), prompt_texts=prompt_texts)
        from IPython.display import display

        stream = create(stream=True)
        handle = display(Live("", fmt), display_id=True)  # type: ignore[no-untyped-call]
        show = (lambda text: handle.update(Live(text, fmt))) if handle is not None else None
        try:
            return read_stream(stream, prompt_texts=prompt_texts, show=show, timings=self.timings)
        finally:
            if handle is not None:
                handle.update(BLANK, raw=True)

    # -- subcommands ------------------------------------------------------------------------------

    def _do_chat(self, args: Any, cell: str | None) -> ChatResult:
        prompt = self._prompt(args, cell)
        if not prompt.strip():
            raise UsageError("%%gravix chat: the cell is empty; write the prompt below the %%gravix chat line")
        model = args.model or self.default_model
        fmt = args.format or self.format
        if args.new:
            self.history.clear()
        messages: list[dict[str, str]] = []
        if args.system:
            messages.append({"role": "system", "content": args.system})
        if not args.no_history:
            messages += self.history.messages(self.max_history)
        messages.append({"role": "user", "content": prompt})
        params = _sampling(args)
        client = self._client()

        def create(stream: bool) -> Any:
            extra = {"stream_options": {"include_usage": True}} if stream else {}
            return client.chat.completions.create(model=model, messages=messages, stream=stream, **extra, **params)

        texts = [m["content"] for m in messages]
        info = self._answer(args, fmt, create, texts)
        result = ChatResult(
            text=info["text"], model=info["model"] or model, format=fmt, usage=info["usage"],
            request_id=info["request_id"], finish_reason=info["finish_reason"], interrupted=info["interrupted"],
            prompt=prompt, kind="chat",
        )  # fmt: skip
        if not args.no_history:
            self._remember(prompt, model, result, info)
        self._offer_code(result)
        return result

    def _remember(self, prompt: str, model: str, result: ChatResult, info: dict[str, Any]) -> None:
        usage = info["usage"] or {}
        self.history.add("user", prompt, model=model, tokens=usage.get("prompt_tokens"))
        self.history.add(
            "assistant", result.text, model=result.model, tokens=usage.get("completion_tokens"),
            interrupted=result.interrupted,
        )  # fmt: skip

    def _offer_code(self, result: ChatResult) -> None:
        """`-f code`: the answer's code becomes the next cell's input (JupyterLab adds a cell below)."""
        if result.format == "code" and not result.interrupted and result.code.strip() and self.shell is not None:
            self.shell.set_next_input(result.code, replace=False)

    def _do_complete(self, args: Any, cell: str | None) -> ChatResult:
        prompt = self._prompt(args, cell)
        if not prompt.strip():
            raise UsageError("%%gravix complete: the cell is empty; write the text to continue below the first line")
        model = args.model or self.default_model
        fmt = args.format or self.format
        params = _sampling(args)
        client = self._client()

        def create(stream: bool) -> Any:
            # the legacy endpoint's signature has no stream_options; the wire field is the same
            extra = {"extra_body": {"stream_options": {"include_usage": True}}} if stream else {}
            return client.completions.create(model=model, prompt=prompt, stream=stream, **extra, **params)

        info = self._answer(args, fmt, create, [prompt])
        result = ChatResult(
            text=info["text"], model=info["model"] or model, format=fmt, usage=info["usage"],
            request_id=info["request_id"], finish_reason=info["finish_reason"], interrupted=info["interrupted"],
            prompt=prompt, kind="completion",
        )  # fmt: skip
        self._offer_code(result)
        return result

    def _do_explain(self, args: Any, cell: str | None) -> ChatResult:
        """The last error (or cell [N]'s) and the cell that raised it, explained by the model, streamed."""
        if args.cell is not None:
            error = self.errors.get(args.cell)
            if error is None:
                failed = ", ".join(f"[{n}]" for n in sorted(self.errors)) or "none yet"
                raise UsageError(f"%gravix explain: cell [{args.cell}] raised no error (cells that failed: {failed})")
        else:
            error = self.errors.last()
            if error is None:
                raise UsageError("%gravix explain: no cell has failed yet in this kernel; run the failing cell first")
        model = args.model or self.default_model
        prompt = (
            f"This Jupyter notebook cell (In[{error.execution_count}]) failed:\n\n```python\n{error.source.strip()}\n```"
            f"\n\nIt raised:\n\n```\n{error.traceback}\n```\n\nExplain what went wrong and how to fix it."
        )
        messages = [{"role": "system", "content": _EXPLAIN_SYSTEM}, {"role": "user", "content": prompt}]
        client, params = self._client(), _sampling(args)

        def create(stream: bool) -> Any:
            extra = {"stream_options": {"include_usage": True}} if stream else {}
            return client.chat.completions.create(model=model, messages=messages, stream=stream, **extra, **params)

        info = self._answer(args, "markdown", create, [m["content"] for m in messages])
        result = ChatResult(
            text=info["text"], model=info["model"] or model, format="markdown", usage=info["usage"],
            request_id=info["request_id"], finish_reason=info["finish_reason"], interrupted=info["interrupted"],
            prompt=prompt, kind="explain",
        )  # fmt: skip
        self._remember(prompt, model, result, info)  # a follow-up %%gravix chat can ask more about it
        return result

    def _do_embed(self, args: Any, cell: str | None) -> EmbedResult:
        text = self._prompt(args, cell)
        texts = [t.strip() for t in text.splitlines() if t.strip()] if args.lines else [text.strip()]
        if not texts or not texts[0]:
            raise UsageError("%%gravix embed: the cell is empty; write the text to embed below the first line")
        model = args.model or self.embedding_model
        kwargs: dict[str, Any] = {"dimensions": args.dimensions} if args.dimensions else {}
        response = self._client().embeddings.create(model=model, input=texts, **kwargs)
        vectors = [item.as_floats() for item in sorted(response.data, key=lambda d: d.index or 0)]
        usage = response.usage.to_dict(exclude_none=True) if response.usage else None
        return EmbedResult(texts=texts, vectors=vectors, model=response.model or model, usage=usage)

    def model_names(self, kind: str | None = None, refresh: bool = False) -> list[str]:
        """Model ids the server offers, optionally only one type ("chat", "embedding"); cached for completion."""
        if self._models is None or refresh:
            self._models = self._list_models(quick=True)
        return [
            str(m["id"]) for m in self._models if m.get("id") and (kind is None or m.get("type", kind) == kind)
        ]

    def _list_models(self, quick: bool = False) -> list[dict[str, Any]]:
        from ._client import list_models

        return list_models(self._client(), quick=quick)

    def _do_models(self, args: Any, cell: str | None) -> Any:
        from ._table import Table

        models = self._models = self._list_models()
        rows = [[m.get("id"), m.get("type", ""), m.get("dimension", ""), m.get("owned_by", "")] for m in models]
        return Table(["id", "type", "dimension", "owned_by"], rows, title="Models", limit=self.display_limit)

    def _do_deployments(self, args: Any, cell: str | None) -> Any:
        if args.widget:
            from .widgets import DeploymentsBrowser

            return DeploymentsBrowser(client=self._client())
        return self._client().deployments.list()

    def _do_hardware(self, args: Any, cell: str | None) -> Any:
        if args.widget:
            from .widgets import HardwareExplorer

            return HardwareExplorer(client=self._client())
        return self._client().accelerators.list()

    def _do_files(self, args: Any, cell: str | None) -> Any:
        return self._client().files.list()

    def _do_config(self, args: Any, cell: str | None) -> Any:
        """Apply every option given or none of them (each is checked first), then show what is in force."""
        from gravixlayer import GravixLayerValidationError

        from ._table import Table

        if args.local and (args.api_key_env or args.base_url):
            raise UsageError(
                "%gravix config: --local uses the embedded GravixLayer Local, so it cannot be combined with "
                "--api-key-env or --base-url; nothing was changed"
            )
        if args.api_key_env is not None:
            if not args.api_key_env.isidentifier():
                raise UsageError(
                    f"%gravix config: --api-key-env takes the NAME of an environment variable, got "
                    f"{args.api_key_env!r}; nothing was changed"
                )
            if not os.environ.get(args.api_key_env, "").strip():
                raise UsageError(
                    f"%gravix config: environment variable {args.api_key_env} is empty or not set (set it in the "
                    "kernel's environment, e.g. os.environ[...] = getpass.getpass()); nothing was changed"
                )
        if args.model is not None and not args.model.strip():
            raise UsageError("%gravix config: --model needs a model id; nothing was changed")
        changes = {"key_env": args.api_key_env, "base_url": args.base_url, "local": True if args.local else None}
        try:
            if args.reset:
                from ._client import ClientProvider

                ClientProvider().configure(**changes)  # check first: reset must not happen if the rest fails
                self.provider.reset()
            if any(v is not None for v in changes.values()):
                self.provider.configure(**changes)
        except (GravixLayerValidationError, ValueError) as exc:
            raise UsageError(f"%gravix config: {exc}; nothing was changed") from None
        if args.model:
            self.default_model = args.model.strip()
        return Table(["setting", "value"], self._settings_rows(), title="GravixLayer notebook settings (in force)", width=120)

    def _settings_rows(self) -> list[list[Any]]:
        source, provider = self.provider.source, self.provider
        if source is not None:
            where = source.describe()
        else:
            key_env = provider.key_env or ("GRAVIXLAYER_API_KEY" if os.environ.get("GRAVIXLAYER_API_KEY", "").strip() else None)
            if key_env and not provider.local:
                url = provider.base_url or os.environ.get("GRAVIXLAYER_BASE_URL") or "the GravixLayer cloud"
                where = f"{url} with the key from ${key_env} (used on first call)"
            else:
                where = "GravixLayer Local, started on first call" + ("" if provider.local else " (no GRAVIXLAYER_API_KEY)")
        return [
            ["client", where],
            ["default_model", self.default_model],
            ["embedding_model", self.embedding_model],
            ["stream", f"{self.stream} ({'on' if self._live(None) else 'off'} here)"],
            ["max_history", self.max_history],
            ["format", self.format],
            ["history", _plural(len(self.history), "message")],
        ]

    def _do_history(self, args: Any, cell: str | None) -> Any:
        return self.history.to_pandas()

    def _do_reset(self, args: Any, cell: str | None) -> None:
        self.history.clear()
        return None

    def _do_help(self, args: Any, cell: str | None) -> Any:
        from ._table import Text

        if args.topic:
            if args.topic not in SUBCOMMANDS:
                raise UsageError(f"%gravix help: unknown subcommand {args.topic!r} (one of: {', '.join(SUBCOMMANDS)})")
            return Text(usage(args.topic))
        return Text(HELP)


_EXPLAIN_SYSTEM = (
    "You help a Python user in a Jupyter notebook. Say in plain words what the error means and which line "
    "caused it, then give the fix as a short corrected code block. Be brief."
)


def _sampling(args: Any) -> dict[str, Any]:
    """The sampling options the user gave (unset ones are not sent)."""
    return {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens)) if v is not None}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
