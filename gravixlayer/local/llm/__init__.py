"""GravixLayer Local's real language model: SmolLM2-135M-Instruct in numpy.

Modules: ``gguf_file`` (reads the GGUF file, dequantizes weights),
``tokenizer`` (vocabulary and chat template from the file), ``model`` (the
transformer forward pass with a KV cache), ``sampling`` (greedy,
temperature, top_p, log-probabilities), ``constrain`` (JSON-schema
constrained decoding), ``engine`` (generation: stop sequences, streaming,
JSON mode, tool calls) and ``serve`` (OpenAI-shaped responses).

The weights are read on the first request that needs the model (~4 s).
"""

from .engine import FINGERPRINT, INSTALL_HINT, MODEL_NAME, LocalLLM, find_model_file

__all__ = ["LocalLLM", "find_model_file", "MODEL_NAME", "FINGERPRINT", "INSTALL_HINT"]
