"""nbval settings for the notebooks: the kernels nbval starts inherit this environment.

The kernels run with a user's settings (`%%gravix chat` streams, as in JupyterLab); only progress bars
are off, so outputs compare; no API key, so GravixLayer Local is used. The settings apply only while
notebook items run, so tests collected in the same session keep theirs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).parent
_SETTINGS = {"TQDM_DISABLE": "1"}
_saved: dict[str, str | None] = {}


def _apply() -> None:
    if _saved:
        return
    for name in (*_SETTINGS, "GRAVIXLAYER_API_KEY", "GRAVIXLAYER_NOTEBOOK_STREAM"):
        _saved[name] = os.environ.get(name)
    os.environ.update(_SETTINGS)
    os.environ.pop("GRAVIXLAYER_NOTEBOOK_STREAM", None)  # the default ("auto"): streamed, as users see it
    if os.environ.get("GRAVIXLAYER_NOTEBOOKS_USE_CLOUD") != "1":
        os.environ.pop("GRAVIXLAYER_API_KEY", None)


def _restore() -> None:
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before nbval's file-level setup starts the kernel, so the kernel inherits the settings.
    if _HERE in Path(str(item.path)).parents:
        _apply()
    else:
        _restore()


def pytest_sessionfinish() -> None:
    _restore()
