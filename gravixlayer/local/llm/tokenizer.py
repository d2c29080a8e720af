"""The model's tokenizer and chat template, both rebuilt from the GGUF file.

The vocabulary is GPT-2-style byte-level BPE (``tokenizer.ggml.model ==
"gpt2"``): tokens are strings over GPT-2's byte-to-unicode alphabet. The
``tokenizers`` package builds the BPE from the file's tokens and merges
(SmolLM's pre-tokenizer: single digits, then byte-level with GPT-2's regex);
control tokens (``<|im_start|>`` ...) are added as special tokens so they are
never split. ``token_bytes`` maps every id to its raw UTF-8 bytes, so streamed
text is decoded incrementally without cutting a multi-byte character.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Tokenizer", "byte_decoder"]

_CONTROL = 3
_USER_DEFINED = 4


def byte_decoder() -> dict[str, int]:
    """GPT-2's unicode character -> byte table (the inverse of ``bytes_to_unicode``)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


class Tokenizer:
    """Encode text to ids, ids to bytes, and render the chat template."""

    def __init__(self, metadata: Mapping[str, Any]) -> None:
        from tokenizers import AddedToken, decoders, models, pre_tokenizers
        from tokenizers import Tokenizer as HFTokenizer

        if metadata.get("tokenizer.ggml.model") != "gpt2":
            raise ValueError("only GPT-2-style byte-level BPE vocabularies are supported")
        tokens: list[str] = metadata["tokenizer.ggml.tokens"]
        types: list[int] = metadata.get("tokenizer.ggml.token_type", [1] * len(tokens))
        merges = [tuple(m.split(" ", 1)) for m in metadata["tokenizer.ggml.merges"]]
        vocab = {token: i for i, token in enumerate(tokens)}
        bpe = models.BPE(vocab=vocab, merges=merges, fuse_unk=False)
        self._hf = HFTokenizer(bpe)
        self._hf.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Digits(individual_digits=True),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
            ]
        )
        self._hf.decoder = decoders.ByteLevel()
        self.special_ids = frozenset(i for i, t in enumerate(types) if t in (_CONTROL, _USER_DEFINED))
        self._hf.add_special_tokens([AddedToken(tokens[i], special=True) for i in sorted(self.special_ids)])
        self.tokens = tokens
        self.vocab_size = len(tokens)
        self.eos_id = int(metadata.get("tokenizer.ggml.eos_token_id", 0))
        self.bos_id = int(metadata.get("tokenizer.ggml.bos_token_id", self.eos_id))
        self.end_ids = frozenset(
            {self.eos_id} | {vocab[t] for t in ("<|im_end|>", "<|endoftext|>") if t in vocab}
        )
        table = byte_decoder()
        self.token_bytes: list[bytes] = [
            t.encode("utf-8") if i in self.special_ids else bytes(table.get(ch, 63) for ch in t)
            for i, t in enumerate(tokens)
        ]
        self.token_text: list[str] = [b.decode("utf-8", errors="replace") for b in self.token_bytes]
        """Each token as text; a token holding part of a character shows U+FFFD (never emitted alone)."""
        self._template_source: str | None = metadata.get("tokenizer.chat_template")
        self._template: Any = None

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; control tokens written in it (``<|im_start|>``) become their ids."""
        return list(self._hf.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return b"".join(self.token_bytes[i] for i in ids).decode("utf-8", errors="replace")

    def render_chat(self, messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = True) -> str:
        """The prompt text: the file's own chat template rendered by a sandboxed jinja2."""
        if self._template is None:
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            if not self._template_source:
                raise ValueError("the model file has no chat template")
            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            self._template = env.from_string(self._template_source)
        rendered: str = self._template.render(
            messages=list(messages), add_generation_prompt=add_generation_prompt
        )
        return rendered
