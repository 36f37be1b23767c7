"""URLs lose their credentials before they are shown, even when malformed."""

from __future__ import annotations

import pytest

from hubci.output.redact import redact
from hubci.output.urls import scrub_url, userinfo


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa55word@hub.example/x", "https://***@hub.example/x"),
        ("htps://user:pa55word@hub.example", "htps://***@hub.example"),
        ("https//user:pa55word@hub.example", "https//***@hub.example"),
        ("user:pa55word@hub.example/path", "***@hub.example/path"),
        # a password may hold "#", "?" or "/": the URL is not cut at them first
        ("http://alice:pa#ss1234@127.0.0.1:9", "http://***@127.0.0.1:9"),
        ("http://alice:pa?ss1234@127.0.0.1:9", "http://***@127.0.0.1:9"),
        ("http://alice:pa/ss1234@127.0.0.1:9/p", "http://***@127.0.0.1:9/p"),
        # an "@" in a query reads as credentials: more is masked than needed, never less
        ("https://hub.example/?next=a@b", "https://***@b"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ],
)
def test_credentials_are_masked(url: str, shown: str) -> None:
    assert scrub_url(url) == shown


def test_the_password_stays_masked_everywhere_after() -> None:
    scrub_url("htps://me:hunter2-pw@hub.example")
    assert redact("the Hub said: bad password hunter2-pw") == "the Hub said: bad password ***"
    assert userinfo("https://hub.example") is None
