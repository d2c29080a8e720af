"""Jupyter toolkit for GravixLayer: `%load_ext gravixlayer_notebook`.

Loading registers `GravixMagics` (`%gravix` / `%%gravix`), tab completion for them (a matcher that,
on their lines, answers alone), and rich HTML
rendering of SDK responses and errors. Heavy modules (pandas, ipywidgets, GravixLayer Local) load
only when a subcommand or widget needs them. Outside the magics, `get_client()` gives the same client
the magics use (the cloud when `GRAVIXLAYER_API_KEY` is set, otherwise the embedded GravixLayer Local).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gravixlayer import GravixLayer

    from ._magics import GravixMagics

__all__ = ["load_ipython_extension", "unload_ipython_extension", "get_client", "GravixMagics"]

def get_client() -> GravixLayer:
    """The notebook's client: explicit `%gravix config`, else GRAVIXLAYER_API_KEY, else embedded Local."""
    from ._client import get_client as _get

    return _get()


def load_ipython_extension(ipython: Any) -> None:
    """Called by `%load_ext gravixlayer_notebook`."""
    from ._completer import MATCHER_ID, make_matcher
    from ._display import register
    from ._errors import install
    from ._magics import GravixMagics

    magics = GravixMagics(shell=ipython)
    magics.errors = install(ipython)  # Err[n] for {Err[n]} and %gravix explain
    ipython.register_magics(magics)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers[:] = [m for m in completer.custom_matchers if getattr(m, "matcher_identifier", None) != MATCHER_ID]
        completer.custom_matchers.append(make_matcher(ipython))
    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by `%unload_ext` / `%reload_ext`: removes the magics, the completer and the renderers."""
    from ._display import unregister
    from ._errors import uninstall

    manager = ipython.magics_manager
    magics = manager.registry.get("GravixMagics")
    if magics is not None:
        uninstall(ipython, magics.errors)
    for kind in ("line", "cell"):
        manager.magics[kind].pop("gravix", None)
    manager.registry.pop("GravixMagics", None)
    from ._completer import MATCHER_ID

    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers[:] = [m for m in completer.custom_matchers if getattr(m, "matcher_identifier", None) != MATCHER_ID]
    unregister(ipython)


def __getattr__(name: str) -> Any:
    if name == "GravixMagics":
        from ._magics import GravixMagics

        return GravixMagics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
