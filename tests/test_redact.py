import pytest

from capacity.redact import redact_url


@pytest.mark.parametrize("url, secret", [
    ("amqp://guest:guest@127.0.0.1:5672/%2F?queue=q", "guest@"),
    ("redis://:hunter2@127.0.0.1:6379/0?list=q", "hunter2"),
    ("nats://tok3n@127.0.0.1:4222?stream=S", "tok3n"),
    ("http://127.0.0.1:8080/m?token=abc123", "abc123"),
])
def test_secrets_removed(url: str, secret: str) -> None:
    assert secret not in redact_url(url)
    assert "127.0.0.1" in redact_url(url)


def test_plain_url_unchanged() -> None:
    assert redact_url("http://127.0.0.1:8080/messages") == "http://127.0.0.1:8080/messages"
