"""URLs without their credentials, before they are recorded or shown anywhere.

``https://user:pass@hub.example`` shows as ``https://***@hub.example``, and ``user:pass`` is
registered with the redactor, so it stays masked wherever else it turns up (an error quoting the
raw value, a Hub echoing it). It works on malformed input too (``htps://u:p@host``,
``https//u:p@host``, ``u:p@host/path``): what sits between the last ``/`` and the last ``@``
before any ``?`` or ``#`` is taken as credentials, which may mask a little more than needed in an
odd URL but never less.
"""

from __future__ import annotations

import re

from hubci.output.redact import MASK, register

_QUERY = re.compile(r"[?#]")


def _split(url: str) -> tuple[str, str, str] | None:
    """(prefix up to the credentials, the credentials, the rest from ``@``) or None."""
    cut = _QUERY.search(url)
    main = url[: cut.start()] if cut else url
    head, at, _ = main.rpartition("@")
    if not at:
        return None
    slash = head.rfind("/")
    return head[: slash + 1], head[slash + 1 :], url[len(head) :]


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
