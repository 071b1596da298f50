"""HTTP publisher: ``POST`` each message to the target URL with geventhttpclient (cooperative under gevent).

A target without a path posts to ``/messages`` (the demo service's API). Any 2xx is success.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from geventhttpclient import HTTPClient
from geventhttpclient.url import URL

from capacity.errors import TargetError
from capacity.redact import redact_url
from loadtests.publishers.base import register


class HttpError(Exception):
    pass


class HttpPublisher:
    request_type = "POST"

    def __init__(self, url: str, concurrency: int = 1000, timeout_s: float = 30.0) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise TargetError(f"Target {redact_url(url)!r} has no host; write it like http://127.0.0.1:8080.")
        path = parts.path if parts.path not in ("", "/") else "/messages"
        self._url = URL(f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else ""))
        self._path = self._url.request_uri
        self.name = redact_url(f"{parts.scheme}://{parts.hostname}:{self._url.port}{path}")
        self._client = HTTPClient.from_url(
            self._url, concurrency=concurrency, network_timeout=timeout_s, connection_timeout=timeout_s
        )
        self._headers = {"Content-Type": "application/json"}

    def publish(self, body: bytes) -> int:
        resp = self._client.post(self._path, body=body, headers=self._headers)
        try:
            data = resp.read()
        finally:
            resp.release()
        if not 200 <= resp.status_code < 300:
            raise HttpError(f"HTTP {resp.status_code}")
        return len(data)

    def close(self) -> None:
        self._client.close()


register("http", "https")(HttpPublisher)
