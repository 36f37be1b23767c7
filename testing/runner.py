"""What a GitHub Actions runner would make of a step's output: a faithful command detector.

The runner reads stdout and stderr line by line (.NET ``ReadLine``: ``\\n``, ``\\r\\n`` and a bare
``\\r`` end a line). A line is a workflow command when, after leading white space, it starts with
``::`` (``::name props::data``), or when it holds the older ``##[name props]data`` form anywhere.
Its comparisons may be culture-sensitive, which skips default-ignorable characters (zero-width
spaces, soft hyphens, bidi marks), so this detector skips them too: it errs on the side of
finding a command. Tests run every output channel through :func:`commands` and check that the
only commands are the ones hubci meant to write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubci.output.neutralize import IGNORABLE

_LINES = re.compile(r"\r\n|\r|\n")
_IGNORABLE = re.compile(f"[{IGNORABLE}]")
#: The names the runner acts on (actions/runner's ActionCommandManager and its extensions).
RUNNER_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)
#: What hubci itself writes.
HUBCI_COMMANDS = frozenset({"add-mask", "endgroup", "error", "group", "notice", "warning"})


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str
    form: str  # "v2" (::name::) or "v1" (##[name])
    line: str


def _unescape(value: str, *, prop: bool) -> str:
    value = value.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        value = value.replace("%3A", ":").replace("%2C", ",")
    return value.replace("%25", "%")


def _v2(line: str) -> Command | None:
    visible = _IGNORABLE.sub("", line).lstrip()
    if not visible.startswith("::"):
        return None
    end = visible.find("::", 2)
    if end < 0:
        return None
    info, data = visible[2:end], visible[end + 2 :]
    name, _, props = info.partition(" ")
    properties: dict[str, str] = {}
    for item in props.split(","):
        key, eq, value = item.partition("=")
        if eq and key.strip():
            properties[key.strip()] = _unescape(value, prop=True)
    return Command(name, properties, _unescape(data, prop=False), "v2", line)


def _v1(line: str) -> Command | None:
    visible = _IGNORABLE.sub("", line)
    start = visible.find("##[")
    if start < 0:
        return None
    end = visible.find("]", start)
    if end < 0:
        return None
    info = visible[start + 3 : end]
    name, _, props = info.partition(" ")
    properties: dict[str, str] = {}
    for item in props.split(";"):
        key, eq, value = item.partition("=")
        if eq and key.strip():
            properties[key.strip()] = value
    return Command(name, properties, visible[end + 1 :], "v1", line)


def commands(output: str) -> list[Command]:
    """Every workflow command the runner would see in ``output`` (any name, either form)."""
    found = []
    for line in _LINES.split(output):
        # the runner tries ::name:: first and falls back to ##[name] when that name is unknown
        v2 = _v2(line)
        command = v2 if v2 is not None and v2.name in RUNNER_COMMANDS else _v1(line) or v2
        if command is not None and command.name.strip():
            found.append(command)
    return found


def runner_lines(output: str) -> list[str]:
    return _LINES.split(output)


def assert_only(output: str, expected: list[str]) -> list[Command]:
    """The commands in ``output`` are exactly ``expected`` (names, in order), each written by
    hubci itself: the ``::`` form at the very start of its line, a name hubci writes."""
    found = commands(output)
    names = [c.name for c in found]
    assert names == expected, f"expected commands {expected}, the runner would see {found}"
    for command in found:
        assert command.form == "v2", command
        assert command.line.startswith("::"), command
        assert command.name in HUBCI_COMMANDS, command
    return found
