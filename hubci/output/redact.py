"""The one redactor: every secret of the run, masked in every text hubci writes.

The run's secrets are registered once, where they enter: each :class:`hubci.secret.Secret`
registers its value when it is made (the Hub token, an executor secret, the GitHub token,
build-env values), and :func:`hubci.output.urls.scrub_url` registers the credentials it takes out
of a URL. :func:`redact` masks all of them; every channel of :mod:`hubci.output` calls it.

One rule for short values (:data:`MIN_MASKED`): a value shorter than 3 characters is not searched
for in free text, where it would match by accident ("1", "on"); it is still masked where its key
names it (``KEY=x`` for a build env ``KEY``), and hubci itself never prints it.

Besides the value as given, each secret is found:
- with its whitespace reflowed (a server that collapses or re-wraps whitespace);
- line by line (a multi-line value that reaches the output in pieces);
- as it appears inside JSON text, and percent-encoded (in a URL).
"""

from __future__ import annotations

import _thread
import re
from collections.abc import Iterable

MASK = "***"
#: Values shorter than this are not searched for in free text (see the module docstring).
MIN_MASKED = 3

_WHITESPACE = re.compile(r"\s+")


def _forms(value: str) -> list[str]:
    """Regular expressions for each way ``value`` may appear in a text."""
    import json
    from urllib.parse import quote

    core = value.strip()
    if len(core) < MIN_MASKED:
        return []
    patterns: list[str] = []
    literals = {core, json.dumps(core)[1:-1], json.dumps(core, ensure_ascii=False)[1:-1]}
    literals.add(quote(core, safe=""))
    literals.update(line.strip() for line in core.splitlines())
    for literal in literals:
        if len(literal) >= MIN_MASKED:
            parts = [re.escape(p) for p in _WHITESPACE.split(literal) if p]
            patterns.append(r"\s+".join(parts))
    return patterns


class Redactor:
    """Masks a fixed set of secrets; :func:`redactor` is the process's one instance."""

    def __init__(self, values: Iterable[str] = (), pairs: Iterable[tuple[str, str]] = ()) -> None:
        patterns: set[str] = set()
        for value in values:
            patterns.update(_forms(value))
        for key, value in pairs:
            if key and value:
                patterns.add(f"(?<={re.escape(key)}=){re.escape(value)}")
                patterns.update(_forms(value))
        # longest first: a secret that contains another is masked whole
        ordered = sorted(patterns, key=lambda p: (-len(p), p))
        self._pattern = re.compile("|".join(ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)


_lock = _thread.allocate_lock()
_values: set[str] = set()
_pairs: set[tuple[str, str]] = set()
_current: Redactor | None = Redactor()


def register(value: str, *, key: str | None = None) -> None:
    """Add a secret of this run (``key``: the name it is given under, e.g. a build env)."""
    global _current
    if not value:
        return
    with _lock:
        before = (len(_values), len(_pairs))
        _values.add(value)
        if key:
            _pairs.add((key, value))
        if (len(_values), len(_pairs)) != before:
            _current = None


def redactor() -> Redactor:
    """The redactor of every secret registered so far."""
    global _current
    with _lock:
        if _current is None:
            _current = Redactor(_values, _pairs)
        return _current


def redact(text: str) -> str:
    return redactor()(text)


def reset() -> None:
    """Forget every registered secret (a test starts from none)."""
    global _current
    with _lock:
        _values.clear()
        _pairs.clear()
        _current = Redactor()
