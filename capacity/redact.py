"""Remove credentials from URLs and source specs before they reach a file, a log or a report."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_KEYS = {"password", "pass", "pwd", "token", "secret", "key", "apikey", "api_key", "auth"}
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/@\s]*)@")


def redact_url(url: str) -> str:
    """Return ``url`` with any password (and secret-looking query values) replaced by ``***``.

    >>> redact_url("amqp://guest:guest@127.0.0.1:5672/%2F?queue=q")
    'amqp://guest:***@127.0.0.1:5672/%2F?queue=q'
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(lambda m: m.group("scheme") + "***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}" if not user else f"{user}@{host}"
        if ":" not in userinfo and user:
            # a bare token in the user position (redis://token@host) is a secret too
            netloc = f"***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in pairs], safe="/,=%")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
