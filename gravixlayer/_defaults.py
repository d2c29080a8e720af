"""Where things are created when the caller does not say: one place for the cloud and region defaults.

Spec §1.3: a sandbox's `provider` / `region` come from the argument, then the client's `cloud=` /
`region=`, then `GRAVIXLAYER_CLOUD` / `GRAVIXLAYER_REGION`, and finally the newest vendor SDK's
defaults `aws` / `us-east-1`. Vector indexes use the same chain (the platform accepts an index created
with only name, dimension and metric), so one program needs no location anywhere.
"""

from __future__ import annotations

import os
from typing import Any

from ._validation import require_str

__all__ = ["DEFAULT_CLOUD", "DEFAULT_REGION", "CLOUD_ENV", "REGION_ENV", "cloud", "region"]

DEFAULT_CLOUD = "aws"
DEFAULT_REGION = "us-east-1"
CLOUD_ENV = "GRAVIXLAYER_CLOUD"
REGION_ENV = "GRAVIXLAYER_REGION"


def _chosen(name: str, given: str | None, client: Any, attribute: str, env: str, default: str) -> str:
    value = given or getattr(client, attribute, None) or os.environ.get(env, "").strip() or default
    return require_str(name, value)


def cloud(given: str | None, client: Any, name: str = "provider") -> str:
    """The cloud to create in: argument, client `cloud=`, `GRAVIXLAYER_CLOUD`, else `aws`."""
    return _chosen(name, given, client, "cloud", CLOUD_ENV, DEFAULT_CLOUD)


def region(given: str | None, client: Any, name: str = "region") -> str:
    """The region to create in: argument, client `region=`, `GRAVIXLAYER_REGION`, else `us-east-1`."""
    return _chosen(name, given, client, "region", REGION_ENV, DEFAULT_REGION)
