"""A user's error handling and per-call options."""

from __future__ import annotations

import httpx

from gravixlayer import (
    GravixLayer,
    GravixLayerAPIError,
    GravixLayerAuthenticationError,
    GravixLayerConnectionError,
    GravixLayerError,
    GravixLayerNotFoundError,
    GravixLayerTimeoutError,
)


def main() -> None:
    client = GravixLayer(api_key="k", timeout=httpx.Timeout(10.0), max_retries=2)
    quick = client.with_options(timeout=5.0, max_retries=0)
    try:
        quick.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], timeout=3.0, extra_headers={"X-A": "1"}
        )
    except GravixLayerAuthenticationError as exc:
        print(exc.status_code, exc.request_id)
    except GravixLayerNotFoundError as exc:
        print(exc.body)
    except GravixLayerTimeoutError:
        print("timeout")
    except GravixLayerConnectionError:
        print("network")
    except GravixLayerAPIError as exc:
        print(exc.code)
    except GravixLayerError as exc:
        print(exc.message)
