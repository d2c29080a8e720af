"""A chat widget: a message box, a streamed transcript and a model picker, sharing `%%gravix chat`'s history.

When the extension is loaded, the widget and the magic hold one conversation: a question asked in the
widget is context for the next `%%gravix chat` cell and the other way round (`%gravix reset` clears both).
Answers stream into the transcript as they arrive (the kernel sends each update while it reads the stream),
and they carry the same usage, model and request id as the magic's.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
from traitlets import Bool, Dict, List, Unicode, observe

from .._html import esc, plural
from ._base import Browser, button

__all__ = ["ChatWidget"]

_BUBBLE = "white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;padding:4px 8px;margin:3px 0;border-radius:6px"
_ROLE_STYLE = {"user": "background:#e8f0fe;margin-left:15%", "assistant": "background:#f4f4f4;margin-right:15%"}


def _magics() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the toolkit
        return None
    shell = get_ipython()
    return shell.magics_manager.registry.get("GravixMagics") if shell is not None else None


class ChatWidget(Browser):
    """`messages` (the transcript), `model`, `draft`, `streaming`; `send(text)` asks and streams the answer."""

    messages = List(Dict(), help="The conversation shown: {'role', 'content'} per message, the last one growing while streamed.")
    model = Unicode("", help="Model the next question goes to.")
    draft = Unicode("", help="The text in the message box.")
    streaming = Bool(False, help="True while an answer is arriving.")
    last_result = Dict(help="Model, usage, finish_reason and request id of the last answer.")

    columns = ("role", "content")

    def __init__(self, client: Any = None, *, model: str | None = None, history: Any = None, **kwargs: Any) -> None:
        magics = _magics()
        if client is None and magics is not None:
            client = magics.provider.get()
        super().__init__(client=client, **kwargs)
        from .._results import ChatHistory

        self.history = history if history is not None else (magics.history if magics is not None else ChatHistory())
        self.max_history = magics.max_history if magics is not None else 10
        from .._magics import DEFAULT_CHAT_MODEL

        default = model or (magics.default_model if magics is not None else "") or DEFAULT_CHAT_MODEL
        self._picker = w.Combobox(options=_chat_models(self.client, default), value=default, ensure_option=False)
        self._picker.add_class("gravix-model")
        self._picker.layout.width = "22em"
        w.link((self._picker, "value"), (self, "model"))
        self._transcript = w.HTML()
        self._transcript.add_class("gravix-transcript")
        self._box = w.Textarea(placeholder="Ask something, then press Send", rows=3)
        self._box.add_class("gravix-message")
        self._box.layout.width = "100%"
        w.link((self._box, "value"), (self, "draft"))
        self._send_button = button("Send", icon="paper-plane", style="primary", name="send")
        self._send_button.on_click(lambda _: self.send())
        self._clear_button = button("New conversation", name="clear")
        self._clear_button.on_click(lambda _: self.clear())
        self.messages = [{"role": e.role, "content": e.content} for e in self.history.entries]
        self.children = [
            w.HBox([w.HTML("<b>Model</b>&nbsp;"), self._picker, self._clear_button]),
            self._transcript,
            self._box,
            w.HBox([self._send_button]),
            self._status,
        ]
        self._ok(plural(len(self.messages), "message"))

    def send(self, text: str | None = None) -> str:
        """Ask `text` (default: the message box), stream the answer into the transcript; returns the answer."""
        from .._stream import read_stream

        question = (self.draft if text is None else text).strip()
        if not question:
            self.error = "write a message first"
            return ""
        if self.streaming:
            self.error = "an answer is still arriving"
            return ""
        model = self.model.strip()
        prior = self.history.messages(self.max_history)
        self.messages = [*self.messages, {"role": "user", "content": question}, {"role": "assistant", "content": ""}]
        self.draft = ""
        self.streaming = True
        try:
            stream = self.client.chat.completions.create(
                model=model, messages=[*prior, {"role": "user", "content": question}], stream=True,
                stream_options={"include_usage": True},
            )  # fmt: skip
            info = read_stream(stream, prompt_texts=[m["content"] for m in prior] + [question], show=self._show)
        except Exception as exc:
            self.messages = self.messages[:-2]
            self.draft = question  # back in the box, to fix and send again
            self._fail("chat", exc)
            return ""
        finally:
            self.streaming = False
        self._show(info["text"])
        usage = info["usage"] or {}
        self.history.add("user", question, model=model, tokens=usage.get("prompt_tokens"))
        self.history.add("assistant", info["text"], model=info["model"] or model, tokens=usage.get("completion_tokens"),
                         interrupted=info["interrupted"])  # fmt: skip
        self.last_result = {k: info[k] for k in ("model", "usage", "finish_reason", "request_id")}
        tokens = usage.get("total_tokens")
        self._ok(f"{info['model'] or model}" + (f" \u00b7 {plural(int(tokens), 'token')}" if tokens is not None else ""))
        return str(info["text"])

    def clear(self) -> None:
        """Start over: forgets the shared conversation (as `%gravix reset` does)."""
        self.history.clear()
        self.messages = []
        self._ok("new conversation")

    def _show(self, text: str) -> None:
        self.messages = [*self.messages[:-1], {"role": "assistant", "content": text}]

    @observe("messages")
    def _render(self, change: Any = None) -> None:
        parts = []
        for m in self.messages:
            style = _ROLE_STYLE.get(m["role"], "")
            parts.append(f'<div class="gravix-msg gravix-{esc(m["role"])}" style="{_BUBBLE};{style}">{esc(m["content"])}</div>')
        if not parts:
            parts.append('<div style="color:#666">No messages yet.</div>')
        self._transcript.value = '<div style="max-height:28em;overflow-y:auto">' + "".join(parts) + "</div>"

    @observe("streaming")
    def _busy(self, change: Any = None) -> None:
        self._send_button.disabled = self.streaming
        self._send_button.description = "Answering\u2026" if self.streaming else "Send"

    def table_rows(self) -> list[list[Any]]:
        return [[m["role"], m["content"]] for m in self.messages]


def _chat_models(client: Any, default: str) -> list[str]:
    from .._client import list_models

    try:
        names = [str(m["id"]) for m in list_models(client, quick=True) if m.get("id") and m.get("type", "chat") == "chat"]
    except Exception:  # the picker still takes any model id typed in
        names = []
    return [default] + [n for n in names if n != default]
