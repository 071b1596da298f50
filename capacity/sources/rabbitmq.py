"""RabbitMQ queue depth: ``rabbitmq://user:pass@host:5672/vhost?queue=q`` (``amqp://`` works too).

Each sample does an AMQP passive ``queue.declare``, which returns the messages *ready* for delivery
and the consumer count, in real time. When the management API answers (``management=auto`` probes
``http://host:15672`` once; ``management=URL`` names it; ``management=off`` skips it), messages
delivered but not yet acknowledged are added to the depth and reported as ``in_flight``, and the
cumulative ack count becomes ``processed_total``. Without it, depth counts ready messages only.

Parameters: ``queue`` (required), ``management`` (``auto`` | ``off`` | URL), ``timeout`` (s, 3).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

import pika
import pika.exceptions

from capacity.brokerurl import describe_error, parse_broker_url
from capacity.errors import SourceError
from capacity.sources.base import QueueSample, register

_ALLOWED = ("queue", "management", "timeout")


@register("rabbitmq", "amqp", "amqps")
class RabbitMQSource:
    """Depth and consumers of one RabbitMQ queue; reconnects on the next sample after a failure."""

    def __init__(self, spec: str) -> None:
        url = parse_broker_url(spec, ("rabbitmq", "amqp", "amqps"), _ALLOWED, SourceError)
        self.spec = url.redacted
        self.queue = url.require("queue", "?queue=orders")
        self.vhost = url.path or "/"
        self.timeout = url.number("timeout", 3.0, minimum=0.1)
        self._tls = url.scheme == "amqps"
        self._params = pika.ConnectionParameters(
            host=url.host,
            port=url.port or (5671 if self._tls else 5672),
            virtual_host=self.vhost,
            credentials=pika.PlainCredentials(url.username or "guest", url.password or "guest"),
            connection_attempts=1,
            socket_timeout=self.timeout,
            stack_timeout=self.timeout,
            blocked_connection_timeout=self.timeout,
            ssl_options=pika.SSLOptions(_default_ssl_context()) if self._tls else None,
        )
        self._auth = (
            "Basic " + base64.b64encode(f"{url.username or 'guest'}:{url.password or 'guest'}".encode()).decode()
        )
        mgmt = (url.get("management") or "auto").strip()
        self._mgmt_explicit = mgmt.lower() not in ("auto", "off", "0", "false", "no")
        if mgmt.lower() == "auto":
            self._mgmt_url: str | None = f"http://{url.host}:15672"
            self._mgmt_state = "unknown"  # probed on the first sample
        elif mgmt.lower() in ("off", "0", "false", "no"):
            self._mgmt_url, self._mgmt_state = None, "off"
        else:
            if not mgmt.startswith(("http://", "https://")):
                raise SourceError(f"management={mgmt!r} in {self.spec!r} must be auto, off or an http(s):// URL.")
            self._mgmt_url, self._mgmt_state = mgmt.rstrip("/"), "on"
        self._conn: pika.BlockingConnection | None = None
        self._chan: Any = None

    @property
    def management(self) -> bool:
        """True once the management API has answered (unacked messages are then counted)."""
        return self._mgmt_state == "on"

    def sample(self) -> QueueSample:
        ready, consumers = self._declare_passive()
        if self._mgmt_state == "unknown":
            self._mgmt_state = "on" if self._probe_management() else "off"
        if self._mgmt_state != "on":
            return QueueSample(depth=float(ready), consumers=consumers)
        info = self._management_queue()
        unacked = float(info.get("messages_unacknowledged") or 0)
        stats = info.get("message_stats") or {}
        acked = stats.get("ack")
        return QueueSample(
            depth=float(ready) + unacked,
            consumers=consumers,
            in_flight=unacked,
            processed_total=float(acked) if acked is not None else None,
            extra={"ready": float(ready)},
        )

    def close(self) -> None:
        conn, self._conn, self._chan = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken; nothing to release
                pass

    # -- AMQP ------------------------------------------------------------------------------------

    def _declare_passive(self) -> tuple[int, int]:
        fresh = self._conn is None
        try:
            return self._declare_once()
        except pika.exceptions.ChannelClosedByBroker as exc:
            self._chan = None
            if exc.reply_code == 404:
                raise SourceError(
                    f"Queue {self.queue!r} does not exist in vhost {self.vhost!r} at {self.spec!r}; "
                    "declare it (start the consumers or the publisher) or fix queue=."
                ) from None
            raise SourceError(f"RabbitMQ refused to inspect queue {self.queue!r}: {exc}.") from None
        except (pika.exceptions.AMQPError, OSError) as exc:
            self.close()
            if fresh:
                raise SourceError(f"Cannot sample RabbitMQ at {self.spec!r}: {_reason(exc)}.") from None
        # a long-idle connection may have been dropped by the broker: retry once on a fresh one
        try:
            return self._declare_once()
        except pika.exceptions.ChannelClosedByBroker as exc:
            self._chan = None
            raise SourceError(f"RabbitMQ refused to inspect queue {self.queue!r}: {exc}.") from None
        except (pika.exceptions.AMQPError, OSError) as exc:
            self.close()
            raise SourceError(f"Cannot sample RabbitMQ at {self.spec!r}: {_reason(exc)}.") from None

    def _declare_once(self) -> tuple[int, int]:
        if self._conn is None or not self._conn.is_open:
            self._conn = pika.BlockingConnection(self._params)
            self._chan = None
        if self._chan is None or not self._chan.is_open:
            self._chan = self._conn.channel()
        frame = self._chan.queue_declare(queue=self.queue, passive=True)
        return int(frame.method.message_count), int(frame.method.consumer_count)

    # -- management API --------------------------------------------------------------------------

    def _probe_management(self) -> bool:
        try:
            self._get_json("/api/overview", timeout=min(self.timeout, 1.0))
            return True
        except (OSError, ValueError):
            return False

    def _management_queue(self) -> dict[str, Any]:
        path = f"/api/queues/{quote(self.vhost, safe='')}/{quote(self.queue, safe='')}"
        try:
            return self._get_json(path, timeout=self.timeout)
        except (OSError, ValueError) as exc:
            raise SourceError(
                f"The RabbitMQ management API at {self._mgmt_url} did not answer for queue "
                f"{self.queue!r} ({_reason(exc)}); fix it or pass management=off."
            ) from None

    def _get_json(self, path: str, timeout: float) -> dict[str, Any]:
        assert self._mgmt_url is not None
        req = urllib.request.Request(self._mgmt_url + path, headers={"Authorization": self._auth})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - operator-given URL
            doc = json.loads(resp.read())
        if not isinstance(doc, dict):
            raise ValueError("the management API did not return a JSON object")
        return doc


def _default_ssl_context() -> Any:
    import ssl

    return ssl.create_default_context()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    return describe_error(exc)
