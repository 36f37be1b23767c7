"""URLs without their credentials, before they are recorded or shown anywhere.

``https://user:pass@hub.example`` shows as ``https://***@hub.example``, and ``user:pass`` is
registered with the redactor, so it stays masked wherever else it turns up (an error quoting the
raw value, a Hub echoing it). It works on malformed input too (``htps://u:p@host``,
``https//u:p@host``, ``u:p@host/path``, a password holding ``#``, ``?`` or ``/``): what sits
between the scheme and the first ``@`` followed by a host is taken as credentials, which may
mask more than needed in an odd URL (``https://host/a@b``) but never less.
"""

from __future__ import annotations

import re

from hubci.output.redact import MASK, register

#: An optional scheme (typos too), then credentials up to the first ``@`` that is followed by
#: a host and the end, a path, a query or a fragment. The credentials may hold ``/``, ``?``
#: or ``#`` themselves (a password does), so the URL is not cut at them first.
_CREDENTIALS = re.compile(
    r"^(?P<prefix>[A-Za-z][A-Za-z0-9+.-]*:?/+|/*)(?P<info>.*?)@"
    r"(?P<rest>\[?[A-Za-z0-9._~%!$&'()*+,;=:-]*\]?(?:[/?#].*)?)$",
    re.DOTALL,
)


def _split(url: str) -> tuple[str, str, str] | None:
    """(prefix up to the credentials, the credentials, the rest from ``@``) or None."""
    match = _CREDENTIALS.match(url)
    if match is None:
        return None
    return match.group("prefix"), match.group("info"), "@" + match.group("rest")


def userinfo(url: str) -> str | None:
    """The credentials part of ``url``, or None when it has none."""
    parts = _split(url.strip())
    return parts[1] if parts is not None and parts[1] else None


def scrub_url(url: str) -> str:
    """``url`` with its credentials masked; they (and the password alone) are registered as
    secrets of the run."""
    text = url.strip()
    parts = _split(text)
    if parts is None or not parts[1]:
        return url
    prefix, info, rest = parts
    register(info)
    password = info.partition(":")[2]
    if password:
        register(password)
    return f"{prefix}{MASK}{rest}"
