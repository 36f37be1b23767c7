"""The one redactor: every secret of the run, masked in every text hubci writes.

The run's secrets are registered once, where they enter: each :class:`hubci.secret.Secret`
registers its value when it is made (the Hub token, an executor secret, the GitHub token,
build-env values), and :func:`hubci.output.urls.scrub_url` registers the credentials it takes out
of a URL. :func:`redact` masks all of them; every channel of :mod:`hubci.output` calls it.

One rule for short values (:data:`MIN_MASKED`): a value of fewer than 3 characters (white space
not counted) is not searched for in free text, where it would match by accident ("1", "on"); it
is still masked where its key names it (``KEY=x`` for a build env ``KEY``), and hubci itself
never prints it.

Besides the value as given, each secret is found however a server may have re-encoded or
re-flowed it, character by character: each character as itself or escaped (``\\uXXXX`` in any
case, ``\\/``-style backslash escapes, nested escaping), percent-encoded (any case), as an HTML
character reference (``&#38;``, ``&#x26;``, ``&amp;``); white space inside the value as any
white space, ``+``, ``%20`` or nothing; any white space between two characters (a token
hard-wrapped onto two lines); and each line of a multi-line value on its own.
"""

from __future__ import annotations

import _thread
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, TypeVar

MASK = "***"
#: Values shorter than this are not searched for in free text (see the module docstring).
MIN_MASKED = 3

_SHORT_ESCAPES = {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
_NAMED_ENTITIES = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}
#: What may stand between two characters of a secret (a line wrapped by a server).
_GAP = r"\s*"
#: What a white space character of the value may have become (or, repeated, nothing).
_SPACE_BODY = r"\s|\+|%20|\\*u0020|&#0*32;|&#x0*20;|&nbsp;"


def _char(c: str) -> str:
    """A regular expression for one character of a secret in any of its encodings."""
    code = ord(c)
    forms = [r"\\*" + re.escape(c)]  # as is, or backslash-escaped (\/, \", nested JSON)
    if code < 0x10000:
        forms.append(rf"\\+u(?i:{code:04x})")
    else:  # a JSON surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(rf"\\+u(?i:{high:04x})\\+u(?i:{low:04x})")
    utf8 = c.encode("utf-8")
    forms.append("".join(f"%(?i:{b:02x})" for b in utf8))
    forms.append(rf"&#0*{code};|&#(?i:x)0*(?i:{code:x});")
    if c in _NAMED_ENTITIES:
        forms.append(f"&{_NAMED_ENTITIES[c]};")
    if c in _SHORT_ESCAPES:
        forms.append(rf"\\+{_SHORT_ESCAPES[c]}")
    return "(?:" + "|".join(forms) + ")"


def _forms(value: str) -> list[str]:
    """Regular expressions for each way ``value`` may appear in a text (see the module
    docstring), and for each line of a multi-line value on its own; none for a value shorter
    than :data:`MIN_MASKED` without its white space."""
    lines = value.strip().splitlines()
    forms = [_pattern(value)] + ([_pattern(line) for line in lines] if len(lines) > 1 else [])
    return [form for form in forms if form]


def _pattern(value: str) -> str:
    core = value.strip()
    if len("".join(core.split())) < MIN_MASKED:
        return ""
    parts: list[str] = []
    spaces: set[str] = set()  # a run of white space in the value, written as one group
    for c in core:
        if c.isspace():
            spaces.add(c)
            continue
        if spaces:
            parts.append(_space(spaces))
            spaces = set()
        elif parts:
            parts.append(_GAP)
        parts.append(_char(c))
    return "".join(parts)


def _space(chars: set[str]) -> str:
    """A run of white space of the value: any white space, ``+``, ``%20``, an escape of one of
    its own characters, or nothing."""
    own = "|".join(_char(c) for c in sorted(chars))
    return f"(?:{_SPACE_BODY}|{own})*"


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


_T = TypeVar("_T")
_lock = _thread.allocate_lock()
#: how many holders registered each secret: a long-running Hub releases a build's values when
#: the build ends, and a value two builds share stays masked until both have ended
_values: Counter[str] = Counter()
_pairs: Counter[tuple[str, str]] = Counter()
_current: Redactor | None = Redactor()


def register(value: str, *, key: str | None = None) -> None:
    """Add a secret of this run (``key``: the name it is given under, e.g. a build env)."""
    global _current
    if not value:
        return
    with _lock:
        before = (len(_values), len(_pairs))
        _values[value] += 1
        if key:
            _pairs[(key, value)] += 1
        if (len(_values), len(_pairs)) != before:
            _current = None


def release(value: str, *, key: str | None = None) -> None:
    """Drop one registration of ``value`` (as :func:`register` was called): once no holder
    is left it is no longer searched for. For values whose last use has passed, such as a
    finished build's build envs in ``hubci hub serve``, which runs for months."""
    global _current
    if not value:
        return
    with _lock:
        gone = _drop(_values, value)
        if key:
            gone = _drop(_pairs, (key, value)) or gone
        if gone:
            _current = None


def _drop(counter: Counter[_T], item: _T) -> bool:
    """One registration fewer; whether the item is gone."""
    if item not in counter:
        return False
    counter[item] -= 1
    if counter[item] > 0:
        return False
    del counter[item]
    return True


def redactor() -> Redactor:
    """The redactor of every secret registered so far."""
    global _current
    with _lock:
        if _current is None:
            _current = Redactor(_values, _pairs)
        return _current


def redact(text: str) -> str:
    return redactor()(text)


def redact_document(document: Any) -> Any:
    """A JSON-able document with every string in it (keys too) redacted, and nothing else
    touched: masking the serialised text instead could turn a secret such as ``null`` or
    ``1714`` into a bare ``***`` and break the document."""
    mask = redactor()
    if isinstance(document, str):
        return mask(document)
    if isinstance(document, dict):
        return {mask(str(k)): redact_document(v) for k, v in document.items()}
    if isinstance(document, list | tuple):
        return [redact_document(v) for v in document]
    return document


def reset() -> None:
    """Forget every registered secret (a test starts from none)."""
    global _current
    with _lock:
        _values.clear()
        _pairs.clear()
        _current = Redactor()
