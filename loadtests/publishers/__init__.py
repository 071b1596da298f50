"""Publishers by target URL scheme. Importing this package registers the built-ins."""

import loadtests.publishers.amqp  # noqa: F401
import loadtests.publishers.nats_pub  # noqa: F401
import loadtests.publishers.redis_pub  # noqa: F401
from loadtests.publishers import http  # noqa: F401
from loadtests.publishers.base import Publisher, message_body, open_publisher, register

__all__ = ["Publisher", "message_body", "open_publisher", "register"]
