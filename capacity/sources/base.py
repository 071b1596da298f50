"""What every queue-depth source answers, and the registry that picks one by URL scheme."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from capacity.errors import SourceError
from capacity.registry import SchemeRegistry


@dataclass(frozen=True)
class QueueSample:
    """One reading of a queue. A value that the source cannot measure is ``None``, never 0.

    ``processed_total`` is a monotone counter (messages the consumers finished); the sampler turns
    it into a rate. ``latency_buckets`` is a cumulative Prometheus-style histogram of delivery
    latency in seconds (upper bound -> count) that the sampler differences per interval.
    """

    depth: float | None = None
    processed_total: float | None = None
    consumers: int | None = None
    in_flight: float | None = None
    latency_buckets: Mapping[float, float] | None = None
    extra: Mapping[str, float] = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """A queue-depth source. ``sample`` raises :class:`SourceError` (or any OSError) on failure;
    the sampler records that as a gap with its reason and keeps going."""

    spec: str  # redacted, safe to write to run.json

    def sample(self) -> QueueSample: ...

    def close(self) -> None: ...


_REGISTRY: SchemeRegistry[Source] = SchemeRegistry("source", SourceError)
register = _REGISTRY.register


def scheme_of(spec: str) -> str:
    if "://" not in spec:
        return spec.split("?", 1)[0].strip().lower()
    return urlsplit(spec).scheme.lower()


def known_schemes() -> set[str]:
    from capacity import sources as _pkg  # noqa: F401  (registers the built-in sources)

    return _REGISTRY.schemes()


def open_source(spec: str) -> Source:
    """Build the source a spec names, e.g. ``prometheus+http://127.0.0.1:8080/metrics``."""
    from capacity import sources as _pkg  # noqa: F401  (registers the built-in sources)

    return _REGISTRY.build(scheme_of(spec), spec)
