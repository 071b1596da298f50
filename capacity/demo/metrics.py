"""Prometheus metrics shared by the demo service and the reference consumers.

Both expose the same names, so one source spec reads either:
``prometheus+http://HOST:PORT/metrics`` with the defaults in :data:`DEFAULT_QUERY`.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

QUEUE_DEPTH = "capplan_queue_depth"
RECEIVED = "capplan_messages_received"  # exposed as ..._total
PROCESSED = "capplan_messages_processed"
REJECTED = "capplan_messages_rejected"
LATENCY = "capplan_delivery_latency_seconds"
WORKERS = "capplan_workers"

# Geometric buckets, 0.5 ms to ~5 min, ratio 1.12: percentiles interpolated within a bucket are
# within a few percent, which is finer than run-to-run noise.
LATENCY_BUCKETS: tuple[float, ...] = tuple(round(0.0005 * 1.12**k, 7) for k in range(118))

DEFAULT_QUERY = f"depth={QUEUE_DEPTH}&processed={PROCESSED}_total&latency={LATENCY}"


@dataclass
class ServiceMetrics:
    registry: CollectorRegistry
    depth: Gauge
    received: Counter
    processed: Counter
    rejected: Counter
    latency: Histogram
    workers: Gauge

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def new_metrics() -> ServiceMetrics:
    reg = CollectorRegistry()
    return ServiceMetrics(
        registry=reg,
        depth=Gauge(QUEUE_DEPTH, "Messages waiting in the queue", registry=reg),
        received=Counter(RECEIVED, "Messages accepted into the queue", registry=reg),
        processed=Counter(PROCESSED, "Messages the consumers finished", registry=reg),
        rejected=Counter(REJECTED, "Messages rejected because the queue was full", registry=reg),
        latency=Histogram(
            LATENCY, "Delivery latency, enqueue (or send) to processed", buckets=LATENCY_BUCKETS, registry=reg
        ),
        workers=Gauge(WORKERS, "Consumers working the queue", registry=reg),
    )
