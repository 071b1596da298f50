"""Parse broker URLs (``amqp://``, ``redis://``, ``nats://``) for sources, publishers and consumers.

Every query parameter is checked against the names the caller accepts, so a typo fails where the
URL is read, with a message naming the bad value and the accepted ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from capacity.errors import CapacityError
from capacity.redact import redact_url


@dataclass(frozen=True)
class BrokerURL:
    scheme: str
    host: str
    port: int | None
    username: str | None
    password: str | None
    path: str  # unquoted, without the leading "/"
    params: dict[str, str]
    redacted: str
    error: type[CapacityError]

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self.params.get(key)
        return default if value in (None, "") else value

    def require(self, key: str, example: str) -> str:
        value = self.get(key)
        if value is None:
            raise self.error(f"{self.redacted!r} has no {key}= parameter; add one, e.g. {example}.")
        return value

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        raw = self.get(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise self.error(f"{key}={raw!r} in {self.redacted!r} must be an integer >= {minimum}.")
        return value

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        raw = self.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = minimum - 1
        if not value >= minimum:
            raise self.error(f"{key}={raw!r} in {self.redacted!r} must be a number >= {minimum:g}.")
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.get(key)
        if raw is None:
            return default
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise self.error(f"{key}={raw!r} in {self.redacted!r} must be 1 or 0 (true/false).")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        raw = (self.get(key) or default).strip().lower()
        if raw not in choices:
            raise self.error(f"{key}={raw!r} in {self.redacted!r} must be one of: {', '.join(choices)}.")
        return raw


def parse_broker_url(
    url: str, schemes: tuple[str, ...], allowed: tuple[str, ...], error: type[CapacityError]
) -> BrokerURL:
    """Split ``url``; raise ``error`` for a foreign scheme or a query parameter not in ``allowed``."""
    redacted = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise error(f"{redacted!r} is not a valid URL ({exc}); use e.g. {schemes[0]}://127.0.0.1/...") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise error(f"{redacted!r} has scheme {scheme!r}; use one of: {', '.join(schemes)}.")
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in allowed:
            raise error(f"Unknown parameter {key!r} in {redacted!r}; use one of: {', '.join(allowed)}.")
        params[key] = value
    return BrokerURL(
        scheme=scheme,
        host=parts.hostname or "127.0.0.1",
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        path=unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path),
        params=params,
        redacted=redacted,
        error=error,
    )


def describe_error(exc: BaseException) -> str:
    """A short reason for a failed broker call, unwrapping pika's nested connection errors."""
    seen = 0
    while seen < 5:
        inner = getattr(exc, "exception", None)  # pika's AMQPConnectorException wrappers
        if not isinstance(inner, BaseException) and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if not isinstance(inner, BaseException):
            break
        exc, seen = inner, seen + 1
    name = type(exc).__name__
    text = str(exc).strip().rstrip(".")
    if not text or text == "()":
        return name
    return text if text.startswith(name) else f"{name}: {text}"
