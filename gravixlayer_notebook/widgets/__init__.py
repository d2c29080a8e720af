"""ipywidgets 8 widgets over GravixLayer: deployments, hardware pricing, sandbox files, and a chat.

Every widget keeps its state in traits (rows, filters, selection, pending confirmation, messages) and
acts through plain methods that the buttons call, so it can be driven and tested without a browser.
In a terminal (or any front end without widgets) each shows as a plain text table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chat import ChatWidget
    from .deployments import DeploymentsBrowser
    from .hardware import HardwareExplorer
    from .sandbox_files import SandboxFileBrowser

__all__ = ["ChatWidget", "DeploymentsBrowser", "HardwareExplorer", "SandboxFileBrowser"]

_WHERE = {
    "ChatWidget": "chat", "DeploymentsBrowser": "deployments", "HardwareExplorer": "hardware",
    "SandboxFileBrowser": "sandbox_files",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
