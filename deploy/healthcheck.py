"""Exit 0 when the bot on this host answers a health path with 200, else 1: for a container's health check
(Docker's HEALTHCHECK, compose, a Kubernetes exec probe), where the slim image has no curl.

    python healthcheck.py            GET /livez (the process answers)
    python healthcheck.py /readyz    GET /readyz (ready for traffic; 503 while starting or draining)

It asks 127.0.0.1 on METRICS_PORT when that is set (the only HTTP port in Socket Mode), else on PORT
(default 3000); --port overrides both. Standard library only, one line on failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

HEALTH_PATHS = ("/livez", "/readyz", "/healthz")


def default_port(environ: Mapping[str, str] = os.environ) -> int:
    return int(environ.get("METRICS_PORT") or environ.get("PORT") or 3000)


def check(url: str, timeout: float) -> tuple[bool, str]:
    """(healthy, what was seen): healthy only on HTTP 200."""
    # No proxy: HTTP_PROXY in a container's environment must not send a loopback check elsewhere.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        return False, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"unreachable ({reason})"
    return status == 200, f"HTTP {status}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 if the bot on this host answers 200, else 1.")
    parser.add_argument("path", nargs="?", default="/livez", choices=HEALTH_PATHS)
    parser.add_argument("--port", type=int, help="default: $METRICS_PORT, else $PORT, else 3000")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    args = parser.parse_args(argv)
    try:
        port = args.port or default_port()
    except ValueError:
        print("unhealthy: METRICS_PORT or PORT is not a number", file=sys.stderr)
        return 1
    url = f"http://{args.host}:{port}{args.path}"
    healthy, seen = check(url, args.timeout)
    if not healthy:
        print(f"unhealthy: GET {url}: {seen}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
