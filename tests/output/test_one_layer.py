"""Printing untrusted text another way is hard: only hubci/output writes to the process's
streams, and there is one redactor, one neutraliser and one markdown escaper."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hubci"
LAYER = PACKAGE / "output"
#: Calls that write to stdout/stderr (or set up something that does) without the layer.
FORBIDDEN_CALLS = {
    "print",
    "click.echo",
    "click.secho",
    "click.get_text_stream",
    "sys.stdout.write",
    "sys.stderr.write",
    "traceback.print_exc",
    "traceback.print_exception",
    "logging.StreamHandler",
    "logging.basicConfig",
}
#: Definitions that would be a second redactor, neutraliser or escaper.
SECOND_LAYER = re.compile(r"(redact|neutrali[sz]e|mask|escape|_cell$|inert)", re.IGNORECASE)
#: Names that match but are no output layer (with why).
DELEGATES = {
    # rewrites docker-history JSON of one build with the layer's Redactor
    ("image/scrub.py", "redact_text"),
    ("image/scrub.py", "_redact_json"),
    # the Dockerfile parser's `# escape=` directive
    ("dockerfile.py", "_escape_char"),
    # metadata-action's {{ }} template semantics (a tag value, not output)
    ("tags/template.py", "escape_html"),
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if LAYER not in p.parents]


def test_only_the_output_layer_writes_to_the_streams() -> None:
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in FORBIDDEN_CALLS:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {_name(node.func)}")
    assert found == [], "write through hubci.output.console.Console instead:\n" + "\n".join(found)


def test_no_second_redactor_neutraliser_or_escaper() -> None:
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and SECOND_LAYER.search(node.name):
                where = (path.relative_to(PACKAGE).as_posix(), node.name)
                if where not in DELEGATES:
                    found.append(f"{where[0]}:{node.lineno} {node.name}")
    assert found == [], "use hubci.output (redact, neutralize, markdown) instead:\n" + "\n".join(
        found
    )


def test_the_check_would_see_a_direct_write() -> None:
    tree = ast.parse("import click\nclick.echo('x')\nprint('y')\n")
    calls = [_name(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert set(calls) <= FORBIDDEN_CALLS
    assert len(calls) == 2


def test_python_warnings_go_through_the_layer() -> None:
    import subprocess
    import sys

    code = (
        "import sys, warnings\n"
        "from hubci.output.console import show_warning\n"
        "from hubci.output.redact import register\n"
        "register('tok-5e3c7a'); warnings.showwarning = show_warning\n"
        "warnings.warn('x\\r::set-output name=a::b tok-5e3c7a')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "tok-5e3c7a" not in proc.stderr
    assert "\n| ::set-output" in proc.stderr  # (text mode reads the bare \\r as \\n)


def test_colour_only_where_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tones colour a line's start on a terminal; NO_COLOR and TERM=dumb turn it off; an escape
    sequence in the text itself never survives."""
    import io

    from hubci.output import console as console_module

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert console_module._colour_allowed() is None  # click decides: a terminal or not
    monkeypatch.setenv("NO_COLOR", "1")
    assert console_module._colour_allowed() is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert console_module._colour_allowed() is False
    monkeypatch.setattr(console_module, "_colour_allowed", lambda: True)
    out = io.StringIO()
    console_module.Console(stdout=out).out("hubci: error: x \x1b[32mfake\nsecond", tone="error")
    assert out.getvalue().startswith("\x1b[31mhubci: error: x \ufffd[32mfake\x1b[0m\nsecond")
