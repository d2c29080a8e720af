"""`GravixMagics`: the `%gravix` line magic and `%%gravix` cell magic.

Settings are traitlets (`%config GravixMagics.default_model = "..."`, or `c.GravixMagics.*` in an
IPython config file); their defaults come from `GRAVIXLAYER_NOTEBOOK_*` environment variables.
"""

from __future__ import annotations

import difflib
import os
import time
from functools import cache
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, CaselessStrEnum, Int, TraitError, Unicode, Union, default, validate

from ._args import CELL_SUBCOMMANDS, HELP, SUBCOMMANDS, parse, split_line, usage
from ._client import ClientProvider, default_provider
from ._html import redact
from ._interpolate import interpolate
from ._results import FORMATS, ChatHistory, ChatResult, EmbedResult

__all__ = ["GravixMagics", "DEFAULT_CHAT_MODEL", "DEFAULT_EMBEDDING_MODEL", "output_updates_in_place"]

DEFAULT_CHAT_MODEL = "mistralai/mistral-nemo-instruct-2407"
DEFAULT_EMBEDDING_MODEL = "microsoft/multilingual-e5-large"
_UPDATE_INTERVAL = 0.05  # seconds between in-place refreshes after the first token

_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


@cache
def _parent_is_nbval() -> bool:
    """nbval ignores in-place display updates; its kernels are children of the pytest process."""
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
            return b"nbval" in fh.read()
    except OSError:
        return False


def output_updates_in_place(shell: Any) -> bool:
    """True in a Jupyter kernel whose front end applies display updates (not terminals, not nbval)."""
    if type(shell).__name__ != "ZMQInteractiveShell":
        return False
    return not _parent_is_nbval()


class _Live:
    """The streaming placeholder: the text so far, as Markdown with a cursor."""

    def __init__(self, text: str, fmt: str) -> None:
        self.text, self.fmt = text, fmt

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {"text/plain": self.text}
        if self.fmt == "markdown":
            data["text/markdown"] = self.text + " \u258c"
        return data


_BLANK = {"text/plain": ""}


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
        help="Stream answers: 'auto' (only where output updates in place: not nbval, not terminals), True, False.",
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
        self.timings: dict[str, float] = {}
        self._models: list[dict[str, Any]] | None = None

    # -- entry point ----------------------------------------------------------------------------

    @no_var_expand
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
            text, _ = interpolate(text, self._user_ns())
        return text

    def _live(self, args: Any) -> bool:
        if args.no_stream:
            return False
        if args.stream:
            return True
        if self.stream == "auto":
            return output_updates_in_place(self.shell)
        return bool(self.stream)

    def _stream_text(self, stream: Any, fmt: str, text_of: Any) -> dict[str, Any]:
        """Show the answer as it arrives in one display updated in place; Ctrl-C keeps the partial text."""
        from IPython.display import display

        parts: list[str] = []
        info: dict[str, Any] = {"interrupted": False, "finish_reason": None, "model": None, "usage": None}
        handle = display(_Live("", fmt), display_id=True)  # type: ignore[no-untyped-call]
        last = 0.0
        try:
            for chunk in stream:
                info["model"] = getattr(chunk, "model", None) or info["model"]
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    info["usage"] = usage.to_dict(exclude_none=True)
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                info["finish_reason"] = choice.finish_reason or info["finish_reason"]
                piece = text_of(choice)
                if not piece:
                    continue
                parts.append(piece)
                now = time.perf_counter()
                if "first_token_shown" not in self.timings or now - last >= _UPDATE_INTERVAL:
                    if handle is not None:
                        handle.update(_Live("".join(parts), fmt))
                    self.timings.setdefault("first_token_shown", time.perf_counter())
                    last = now
        except KeyboardInterrupt:
            info["interrupted"] = True
            info["finish_reason"] = "interrupted"
        finally:
            stream.close()
            if handle is not None:
                handle.update(_BLANK, raw=True)
        info["text"] = "".join(parts)
        info["request_id"] = getattr(stream, "request_id", None)
        return info

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
        if self._live(args):
            stream = client.chat.completions.create(model=model, messages=messages, stream=True, **params)
            info = self._stream_text(stream, fmt, lambda choice: choice.delta.content)
        else:
            response = client.chat.completions.create(model=model, messages=messages, stream=False, **params)
            info = _whole_answer(response)
        result = ChatResult(
            text=info["text"], model=info["model"] or model, format=fmt, usage=info["usage"],
            request_id=info["request_id"], finish_reason=info["finish_reason"], interrupted=info["interrupted"],
            prompt=prompt, kind="chat",
        )  # fmt: skip
        if not args.no_history:
            usage = info["usage"] or {}
            self.history.add("user", prompt, model=model, tokens=usage.get("prompt_tokens"))
            self.history.add(
                "assistant", result.text, model=result.model, tokens=usage.get("completion_tokens"),
                interrupted=result.interrupted,
            )  # fmt: skip
        return result

    def _do_complete(self, args: Any, cell: str | None) -> ChatResult:
        prompt = self._prompt(args, cell)
        if not prompt.strip():
            raise UsageError("%%gravix complete: the cell is empty; write the text to continue below the first line")
        model = args.model or self.default_model
        fmt = args.format or self.format
        params = _sampling(args)
        client = self._client()
        if self._live(args):
            stream = client.completions.create(model=model, prompt=prompt, stream=True, **params)
            info = self._stream_text(stream, fmt, lambda choice: choice.text)
        else:
            response = client.completions.create(model=model, prompt=prompt, stream=False, **params)
            info = _whole_answer(response)
        return ChatResult(
            text=info["text"], model=info["model"] or model, format=fmt, usage=info["usage"],
            request_id=info["request_id"], finish_reason=info["finish_reason"], interrupted=info["interrupted"],
            prompt=prompt, kind="completion",
        )  # fmt: skip

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
            self._models = self._list_models()
        return [
            str(m["id"]) for m in self._models if m.get("id") and (kind is None or m.get("type", kind) == kind)
        ]

    def _list_models(self) -> list[dict[str, Any]]:
        from gravixlayer._parse import json_body
        from gravixlayer._request import APIRequest

        client = self._client()
        body = json_body(client.send(APIRequest("GET", "inference", "models")))
        items = body.get("data", []) if isinstance(body, dict) else body
        return [item for item in items or [] if isinstance(item, dict)]

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
        from ._table import Table

        if args.reset:
            self.provider.reset()
        if args.api_key_env or args.base_url or args.local:
            self.provider.configure(key_env=args.api_key_env, base_url=args.base_url, local=True if args.local else None)
        if args.model:
            self.default_model = args.model
        source = self.provider.source
        if source is None:
            if self.provider.key_env:
                where = f"${self.provider.key_env} (used on first call)"
            elif os.environ.get("GRAVIXLAYER_API_KEY", "").strip():
                where = "$GRAVIXLAYER_API_KEY (used on first call)"
            else:
                where = "GravixLayer Local, started on first call (no GRAVIXLAYER_API_KEY)"
        else:
            where = source.describe()
        rows = [
            ["client", where],
            ["default_model", self.default_model],
            ["embedding_model", self.embedding_model],
            ["stream", self.stream],
            ["max_history", self.max_history],
            ["format", self.format],
            ["history", f"{len(self.history)} messages"],
        ]
        return Table(["setting", "value"], rows, title="GravixLayer notebook settings", width=120)

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


def _sampling(args: Any) -> dict[str, Any]:
    """The sampling options the user gave (unset ones are not sent)."""
    return {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens)) if v is not None}


def _whole_answer(response: Any) -> dict[str, Any]:
    """A non-streamed chat or completion answer in the shape `_stream_text` returns for streams."""
    choice = response.choices[0] if response.choices else None
    return {
        "text": response.text,
        "model": response.model,
        "usage": response.usage.to_dict(exclude_none=True) if response.usage else None,
        "finish_reason": choice.finish_reason if choice else None,
        "interrupted": False,
        "request_id": response.request_id,
    }
