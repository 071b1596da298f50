"""A source that scrapes a Prometheus text endpoint.

``prometheus+http://host:port/metrics?depth=queue_depth&processed=messages_processed_total
&latency=delivery_latency_seconds&consumers=workers&match=queue%3D"orders"``

``depth``, ``processed``, ``consumers`` name gauge/counter samples (summed over matching series);
``latency`` names a histogram (its ``_bucket`` series); ``match`` is an optional label selector
``name="value"[,name2="value2"]`` applied to every metric. Without a query the capplan metric
names (the demo service and reference consumers) are used.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit, urlunsplit

from prometheus_client.parser import text_string_to_metric_families

from capacity.demo.metrics import LATENCY, PROCESSED, QUEUE_DEPTH, WORKERS
from capacity.errors import SourceError
from capacity.redact import redact_url
from capacity.sources.base import QueueSample, register

_MATCH = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*')


def parse_match(selector: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in selector.split(","))):
        m = _MATCH.fullmatch(part)
        if not m:
            raise SourceError(f'Label selector {part!r} is malformed; write it as name="value".')
        labels[m.group(1)] = m.group(2)
    return labels


class PrometheusSource:
    def __init__(self, spec: str, timeout_s: float = 2.0) -> None:
        parts = urlsplit(spec)
        scheme = parts.scheme.split("+", 1)[-1] if "+" in parts.scheme else "http"
        if scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(
                f"Prometheus source {redact_url(spec)!r} must look like prometheus+http://host:port/metrics."
            )
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.depth_metric = q.pop("depth", QUEUE_DEPTH)
        self.processed_metric = q.pop("processed", PROCESSED + "_total")
        self.latency_metric = q.pop("latency", LATENCY)
        self.consumers_metric = q.pop("consumers", WORKERS)
        self.match = parse_match(q.pop("match", ""))
        if q:
            raise SourceError(
                f"Prometheus source has unknown parameter(s) {sorted(q)}; use depth, processed, latency, "
                "consumers, match."
            )
        self.url = urlunsplit((scheme, parts.netloc, parts.path or "/metrics", "", ""))
        self.spec = redact_url(spec)
        self.timeout_s = timeout_s

    def _matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match.items())

    def sample(self) -> QueueSample:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout_s) as resp:  # noqa: S310
                text = resp.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise SourceError(f"Scrape of {redact_url(self.url)} failed: {reason}") from e
        return self.parse(text)

    def parse(self, text: str) -> QueueSample:
        values: dict[str, float] = defaultdict(float)
        seen: set[str] = set()
        buckets: dict[float, float] = defaultdict(float)
        try:
            families = list(text_string_to_metric_families(text))
        except ValueError as e:
            raise SourceError(f"{redact_url(self.url)} did not return Prometheus text format: {e}") from e
        wanted = {self.depth_metric, self.processed_metric, self.consumers_metric}
        for fam in families:
            for s in fam.samples:
                if not self._matches(s.labels):
                    continue
                if s.name in wanted:
                    values[s.name] += s.value
                    seen.add(s.name)
                elif s.name == self.latency_metric + "_bucket":
                    le = s.labels.get("le", "")
                    buckets[float("inf") if le == "+Inf" else float(le)] += s.value
        return QueueSample(
            depth=values[self.depth_metric] if self.depth_metric in seen else None,
            processed_total=values[self.processed_metric] if self.processed_metric in seen else None,
            consumers=int(values[self.consumers_metric]) if self.consumers_metric in seen else None,
            latency_buckets=dict(buckets) if buckets else None,
        )

    def close(self) -> None:
        pass


register("prometheus+http", "prometheus+https", "prometheus")(PrometheusSource)


def demo_source_spec(base_url: str) -> str:
    """The source spec for the demo service (or a reference consumer) at ``base_url``."""
    parts = urlsplit(base_url)
    return f"prometheus+{parts.scheme}://{parts.netloc}/metrics"
