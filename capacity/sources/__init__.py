"""Queue-depth sources, chosen by URL scheme. Importing this package registers the built-ins."""

import capacity.sources.nats_stream  # noqa: F401
import capacity.sources.rabbitmq  # noqa: F401
import capacity.sources.redis_queue  # noqa: F401
from capacity.sources import prometheus  # noqa: F401
from capacity.sources.base import QueueSample, Source, known_schemes, open_source, register

__all__ = ["QueueSample", "Source", "open_source", "register", "known_schemes"]
