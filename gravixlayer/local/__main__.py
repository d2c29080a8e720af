"""``python -m gravixlayer.local`` / ``gravixlayer-local``: run Local from a shell."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from ._config import KEYS_ENV, default_data_dir, keys_from_env, read_key_file
from ._server import LocalServer, generate_api_key
from .llm import find_model_file
from .model_resolution import parse_alias

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gravixlayer-local",
        description="GravixLayer Local: an offline server speaking the GravixLayer API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accepted API key; repeat for several tenants. Prefer --api-key-file or $"
        + KEYS_ENV
        + ": a key on the command line is visible to every local user "
        "(default: those, else $GRAVIXLAYER_API_KEY, else a generated key shown once)",
    )
    parser.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help="file of accepted API keys, one per line (mode 600: it must not be readable by others)",
    )
    parser.add_argument(
        "--sandbox-disk-mb", type=int, default=2048, metavar="MB", help="disk each sandbox may fill (default 2048)"
    )
    parser.add_argument(
        "--sandbox-isolation",
        default="auto",
        choices=["auto", "require", "namespaces", "namespaces-no-proc", "landlock", "best-effort"],
        help="how sandboxes are isolated: auto (strongest that works here, the default), require "
        "(refuse sandboxes unless namespaces work), or one mode forced",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where data is kept (default: $GRAVIXLAYER_LOCAL_DATA_DIR or {default_data_dir()})",
    )
    parser.add_argument(
        "--deployment-delay",
        type=float,
        default=3.0,
        metavar="S",
        help="seconds a new deployment stays 'creating' (default 3)",
    )
    parser.add_argument("--max-upload-mib", type=int, default=512, help="largest accepted upload in MiB")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a request head may take, and the longest pause inside a body (default 30)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
    )
    parser.add_argument("--access-log", action="store_true", help="log each request (path only)")
    parser.add_argument(
        "--model-alias",
        action="append",
        dest="model_aliases",
        default=[],
        metavar="NAME=TARGET",
        help="serve chat/completion model id NAME with catalogue model TARGET; repeatable "
        "(common ids such as llama3.1:8b are mapped already)",
    )
    parser.add_argument(
        "--chat-engine",
        choices=["smollm2", "standin"],
        default=None,
        help="who answers the catalogue's chat models: the local SmolLM2-135M-Instruct (default) "
        "or the deterministic stand-in (default: $GRAVIXLAYER_LOCAL_CHAT_ENGINE)",
    )
    parser.add_argument(
        "--embedding-engine",
        choices=["minilm", "wordllama"],
        default=None,
        help="source of the embedding models: all-MiniLM-L6-v2 (default) or the faster wordllama "
        "(default: $GRAVIXLAYER_LOCAL_EMBEDDING_ENGINE)",
    )
    models = parser.add_mutually_exclusive_group()
    models.add_argument(
        "--any-model",
        dest="any_model",
        action="store_true",
        default=None,
        help="serve any unknown model id with the local model (default: $GRAVIXLAYER_LOCAL_ANY_MODEL)",
    )
    models.add_argument(
        "--strict-models",
        dest="any_model",
        action="store_false",
        help="answer an unknown model id with 404 (the default)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        aliases = dict(parse_alias(text) for text in args.model_aliases)
    except ValueError as exc:
        parser.error(str(exc))
    model_options: dict[str, object] = {} if args.any_model is None else {"any_model": args.any_model}
    if args.chat_engine is not None:
        model_options["chat_engine"] = args.chat_engine
    if args.embedding_engine is not None:
        model_options["embedding_engine"] = args.embedding_engine
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    keys: list[str] = list(args.api_keys or [])
    if keys:
        logging.getLogger("gravixlayer.local").warning(
            "API keys given with --api-key are visible to every local user in the process list; "
            "use --api-key-file or $%s",
            KEYS_ENV,
        )
    try:
        if args.api_key_file is not None:
            keys += read_key_file(args.api_key_file)
    except ValueError as exc:
        print(f"gravixlayer-local: {exc}", file=sys.stderr)
        return 2
    keys += keys_from_env()
    generated = False
    if not keys:
        env_key = os.environ.get("GRAVIXLAYER_API_KEY", "").strip()
        keys = [env_key] if env_key else [generate_api_key()]
        generated = not env_key
    try:
        server = LocalServer(
            api_keys=keys,
            data_dir=args.data_dir or default_data_dir(),
            deployment_ready_delay=args.deployment_delay,
            host=args.host,
            port=args.port,
            max_upload_bytes=args.max_upload_mib * 1024 * 1024,
            request_timeout=args.request_timeout,
            log_level=args.log_level,
            access_log=args.access_log,
            model_aliases=aliases,
            **model_options,
            sandbox_isolation=args.sandbox_isolation,
            sandbox_disk_mb=args.sandbox_disk_mb,
        )
    except ValueError as exc:
        print(f"gravixlayer-local: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"gravixlayer-local: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if server.config.upstream_url:
        mode = f"forwarding chat to {server.config.upstream_url}"
    elif server.config.chat_engine == "smollm2" and find_model_file() is not None:
        mode = "offline model SmolLM2-135M-Instruct"
    else:
        mode = "offline stand-in model"
    key_note = f"; API key: {keys[0]}" if generated else f"; {len(keys)} API key(s)"
    print(
        f"GravixLayer Local listening on {server.base_url} ({mode}; data in {server.data_dir}{key_note})",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            if not server.running:
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
