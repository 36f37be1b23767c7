"""The Handlebars subset metadata-action's expressions use: ``{{name}}``, ``{{fn 'arg' k='v'}}``.

Supported: text, ``{{expr}}`` (output HTML-escaped, as Handlebars does), ``{{{expr}}}`` and
``{{&expr}}`` (not escaped), ``{{! comment }}`` / ``{{!-- comment --}}``, ``\\{{`` for a literal
``{{``, ``~`` whitespace control, string/number/boolean/null literals, bare paths and
``key=value`` hash arguments. Block helpers (``{{#if}}``), partials and sub-expressions are not part
of the tag language and are refused with a clear message.

A scope maps names to plain values or to :class:`Helper` callables. As in Handlebars, a mustache
with arguments must name a helper (``Missing helper: "foo"``), a bare unknown name renders empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "Helper",
    "Mustache",
    "PathRef",
    "TemplateError",
    "is_single_mustache",
    "parse_template",
    "render",
]

#: A helper gets the resolved positional arguments and hash arguments, returns text.
Helper = Callable[[Sequence[object], Mapping[str, object]], str]


class TemplateError(ValueError):
    """The expression does not parse or cannot be rendered (message is user-facing)."""


@dataclass(frozen=True)
class PathRef:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Comment:
    value: str


@dataclass(frozen=True)
class Mustache:
    path: PathRef
    params: tuple[object, ...]
    hash: tuple[tuple[str, object], ...]
    escaped: bool


Node = Text | Comment | Mustache

_ID = r"[^\s!\"#%-,\./;->@\[-\^`\{-~]+"
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<close>~?\}\}\}?)
  | (?P<string>"(?:\\"|[^"])*"|'(?:\\'|[^'])*')
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?)(?=[=~}\s/.)|])
  | (?P<literal>true|false|undefined|null)(?=[~}\s)])
  | (?P<key>"""
    + _ID
    + r""")=
  | (?P<path>(?:"""
    + _ID
    + r"""|\[[^\]]*\])(?:[./](?:"""
    + _ID
    + r"""|\[[^\]]*\]))*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "`": "&#x60;",
    "=": "&#x3D;",
}
_ESCAPE_RE = re.compile("[&<>\"'`=]")


def escape_html(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


def _literal(kind: str, text: str) -> object:
    if kind == "string":
        quote = text[0]
        return text[1:-1].replace("\\" + quote, quote)
    if kind == "number":
        return float(text) if "." in text else int(text)
    return {"true": True, "false": False, "undefined": None, "null": None}[text]


def _path(text: str) -> PathRef:
    parts = [p[1:-1] if p.startswith("[") else p for p in re.split(r"[./](?![^\[]*\])", text)]
    if parts and parts[0] == "this" and len(parts) > 1:
        parts = parts[1:]
    return PathRef(tuple(parts))


def _parse_mustache(template: str, pos: int, triple: bool) -> tuple[Mustache, int, bool, bool]:
    """Parse after the opening braces; returns (node, end, strip_before, strip_after)."""
    strip_before = template.startswith("~", pos)
    if strip_before:
        pos += 1
    escaped = not triple
    if not triple and template.startswith("&", pos):
        escaped = False
        pos += 1
    head = template[pos:].lstrip()
    if head[:1] in ("#", "/", "^", ">") or re.match(r"else\b", head) or head.startswith("*"):
        msg = (
            f"{{{{{head[:12].strip()}…}}}}: block helpers, partials and else are not supported "
            "in tag expressions"
        )
        raise TemplateError(msg)
    items: list[tuple[str, str]] = []
    while True:
        match = _TOKEN.match(template, pos)
        if match is None:
            msg = f"unclosed '{{{{' in {template!r}"
            raise TemplateError(msg)
        kind = match.lastgroup or "other"
        text = match.group(kind)
        pos = match.end()
        if kind == "ws":
            continue
        if kind == "close":
            want = "}}}" if triple else "}}"
            if text.lstrip("~") != want:
                msg = f"mismatched braces in {template!r}"
                raise TemplateError(msg)
            strip_after = text.startswith("~")
            break
        if kind == "other":
            if text == "(":
                msg = f"sub-expressions are not supported in {template!r}"
            else:
                msg = f"unexpected {text!r} in expression {template!r}"
            raise TemplateError(msg)
        items.append((kind, text))
    if not items:
        msg = f"empty expression in {template!r}"
        raise TemplateError(msg)
    head_kind, head_text = items[0]
    if head_kind != "path":
        # Handlebars allows a literal as the head ({{"x"}}): it looks up a property by that name.
        if head_kind == "key":
            msg = f"expression {template!r} starts with an argument"
            raise TemplateError(msg)
        head_path = PathRef((str(_literal(head_kind, head_text)),))
    else:
        head_path = _path(head_text)
    params: list[object] = []
    hash_args: list[tuple[str, object]] = []
    index = 1
    while index < len(items):
        kind, text = items[index]
        if kind == "key":
            if index + 1 >= len(items) or items[index + 1][0] == "key":
                msg = f"missing value for {text}= in {template!r}"
                raise TemplateError(msg)
            value_kind, value_text = items[index + 1]
            value = _path(value_text) if value_kind == "path" else _literal(value_kind, value_text)
            hash_args.append((text, value))
            index += 2
            continue
        if hash_args:
            msg = f"positional argument after key=value in {template!r}"
            raise TemplateError(msg)
        params.append(_path(text) if kind == "path" else _literal(kind, text))
        index += 1
    node = Mustache(head_path, tuple(params), tuple(hash_args), escaped)
    return node, pos, strip_before, strip_after


@lru_cache(maxsize=512)
def parse_template(template: str) -> tuple[Node, ...]:
    """Parse ``template`` into nodes; raises :class:`TemplateError` for bad syntax."""
    nodes: list[Node] = []
    text: list[str] = []
    strip_next = False
    pos = 0
    while pos < len(template):
        start = template.find("{{", pos)
        if start < 0:
            text.append(template[pos:])
            break
        chunk = template[pos:start]
        if chunk.endswith("\\\\"):
            chunk = chunk[:-1]
        elif chunk.endswith("\\"):
            text.append(chunk[:-1] + "{{")
            pos = start + 2
            continue
        text.append(chunk)
        if template.startswith("{{!", start) or template.startswith("{{~!", start):
            body_start = template.index("!", start) + 1
            long_form = template.startswith("--", body_start)
            end = template.find("--}}" if long_form else "}}", body_start)
            if end < 0:
                msg = f"unclosed comment in {template!r}"
                raise TemplateError(msg)
            end += 4 if long_form else 2
            nodes.append(Text(_apply_strip("".join(text), strip_next)))
            text = []
            nodes.append(Comment(template[start:end]))
            strip_next = template[: end - (4 if long_form else 2)].endswith("~")
            pos = end
            continue
        triple = template.startswith("{{{", start)
        node, pos, strip_before, strip_after = _parse_mustache(
            template, start + (3 if triple else 2), triple
        )
        pending = _apply_strip("".join(text), strip_next)
        if strip_before:
            pending = pending.rstrip()
        nodes.append(Text(pending))
        text = []
        nodes.append(node)
        strip_next = strip_after
    if text:
        nodes.append(Text(_apply_strip("".join(text), strip_next)))
    return tuple(n for n in nodes if not (isinstance(n, Text) and n.value == ""))


def _apply_strip(text: str, strip: bool) -> str:
    return text.lstrip() if strip else text


def to_text(value: object) -> str:
    """Stringify like JavaScript's ``String(value)`` for the values scopes hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(to_text(v) for v in value)
    return str(value)


def _lookup(scope: Mapping[str, object], path: PathRef) -> object:
    if len(path.parts) != 1:
        return None
    return scope.get(path.parts[0])


def _resolve(scope: Mapping[str, object], value: object) -> object:
    return _lookup(scope, value) if isinstance(value, PathRef) else value


def render(template: str, scope: Mapping[str, object]) -> str:
    """Render ``template`` with ``scope``; raises :class:`TemplateError`."""
    out: list[str] = []
    for node in parse_template(template):
        if isinstance(node, Text):
            out.append(node.value)
            continue
        if isinstance(node, Comment):
            continue
        target = _lookup(scope, node.path)
        name = ".".join(node.path.parts)
        if node.params or node.hash:
            if not callable(target):
                msg = f'Missing helper: "{name}"'
                raise TemplateError(msg)
            params = [_resolve(scope, p) for p in node.params]
            hash_args = {k: _resolve(scope, v) for k, v in node.hash}
            value: object = target(params, hash_args)
        elif callable(target):
            value = target([], {})
        else:
            value = target
        text = to_text(value)
        out.append(escape_html(text) if node.escaped else text)
    return "".join(out)


def is_single_mustache(template: str, name: str) -> bool:
    """True when ``template`` is exactly one ``{{name}}`` mustache (spaces inside allowed)."""
    try:
        nodes = parse_template(template)
    except TemplateError:
        return False
    return len(nodes) == 1 and isinstance(nodes[0], Mustache) and nodes[0].path.parts == (name,)
