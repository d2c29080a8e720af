"""GravixLayer Local's sandboxes: one isolated environment per sandbox (see ``isolation.py`` for the modes).

``manager`` keeps the records and environments, ``runtime`` runs commands and kernels, ``files`` does file
operations, all through the in-sandbox ``agent`` reached over ``channel``; ``probe`` picks the isolation
mode, ``seccomp`` and ``landlock`` build the kernel-level filters, ``network`` gives opt-in egress.
"""

from .files import HOME, SandboxFiles, iso_time
from .isolation import BEST_EFFORT, LANDLOCK, MODES, NAMESPACES, NAMESPACES_NO_PROC, Limits
from .manager import (
    DEFAULT_RUN_TIMEOUT,
    ISOLATION_CHOICES,
    MAX_RUN_TIMEOUT,
    MAX_SANDBOX_TIMEOUT,
    SCHEMA,
    SandboxManager,
)

__all__ = [
    "SandboxManager", "SandboxFiles", "Limits", "HOME", "iso_time", "SCHEMA", "DEFAULT_RUN_TIMEOUT",
    "MAX_RUN_TIMEOUT", "MAX_SANDBOX_TIMEOUT", "ISOLATION_CHOICES", "MODES", "NAMESPACES", "NAMESPACES_NO_PROC",
    "LANDLOCK", "BEST_EFFORT",
]  # fmt: skip
