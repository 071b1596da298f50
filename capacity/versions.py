"""Versions of the tools that produced a run (written to run.json)."""

from __future__ import annotations

import platform
from importlib import metadata


def tool_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("capplan", "locust", "scipy", "pandas", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
