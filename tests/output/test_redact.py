"""The one redactor: every form a secret can take on its way out, and the short-value rule."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubci.output.redact import MASK, MIN_MASKED, Redactor, redact, register
from hubci.secret import Secret

EXAMPLES = 500

secrets = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=MIN_MASKED
).filter(lambda s: len("".join(s.split())) >= MIN_MASKED)


def test_every_secret_is_registered_by_being_made() -> None:
    Secret("tok-a1b2c3")
    assert redact("Authorization: token tok-a1b2c3") == f"Authorization: token {MASK}"


def test_short_values_only_where_their_key_names_them() -> None:
    redactor = Redactor(["x"], pairs=[("KEY", "x")])
    assert redactor("COPY does-not-exist") == "COPY does-not-exist"
    assert redactor("|1 KEY=x /bin/sh -c make") == f"|1 KEY={MASK} /bin/sh -c make"


def test_whitespace_reflowed_by_a_server() -> None:
    register("correct horse\n battery  staple")
    assert redact("echo: correct horse battery staple.") == f"echo: {MASK}."
    assert redact("correct horse") == MASK  # one line of a multi-line value


def test_longest_first() -> None:
    redactor = Redactor(["abc", "abcdef"])
    assert redactor("x abcdef y abc z") == f"x {MASK} y {MASK} z"


@settings(max_examples=EXAMPLES)
@given(secrets, st.text(max_size=20), st.text(max_size=20))
def test_a_secret_never_shows_in_any_form(secret: str, before: str, after: str) -> None:
    redactor = Redactor([secret])
    core = secret.strip()
    for form in (
        core,
        json.dumps(core)[1:-1],
        json.dumps(core, ensure_ascii=False)[1:-1],
        quote(core, safe=""),
        " ".join(core.split()),
    ):
        shown = redactor(f"{before}{form}{after}")
        assert form not in shown or form in f"{before}{after}"


@settings(max_examples=EXAMPLES)
@given(st.text(max_size=40))
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert Redactor([])(text) == text
    assert Redactor(["\x00never-in-text\x00"])(text.replace("\x00", "")) == text.replace("\x00", "")


@pytest.mark.parametrize(
    "shown",
    [
        "pa55 w0rd&<>/x",
        "pa55+w0rd&<>/x",  # form encoding
        "pa55%20w0rd%26%3C%3E/x",  # quote() keeps "/"
        "pa55+w0rd%26%3C%3E%2Fx",  # quote_plus
        "pa55%20w0rd%26%3c%3e%2fx",  # lower-case hex
        "pa55 w0rd\\u0026\\u003c\\u003e\\/x",  # JSON as Go or PHP write it
        "pa55 w0rd&amp;&lt;&gt;/x",  # HTML
        "pa55 w0rd&#38;&#x3C;&#62;/x",  # character references
        "pa55w0rd&<>/x",  # white space removed
        "pa55\n  w0rd&<>\n/x",  # re-wrapped
        "pa55 w0rd&<>\\\\\\/x",  # nested JSON
    ],
)
def test_a_secret_echoed_in_another_encoding(shown: str) -> None:
    register("pa55 w0rd&<>/x")
    assert redact(f"[{shown}]") == f"[{MASK}]"


def test_a_token_hard_wrapped_by_a_server() -> None:
    register("tokSECRETabc123xyz")
    assert redact("token: tokSECRET\nabc123xyz.") == f"token: {MASK}."
    assert redact("h\\u00E9llo") == "h\\u00E9llo"  # nothing registered matches


@pytest.mark.parametrize("secret", ["null", "true", "1714", "0.0", '"', "{}"])
def test_json_output_stays_valid_whatever_the_secret(secret: str, tmp_path: Path) -> None:
    from hubci.output.commands import JsonOutput, write_outputs
    from hubci.output.console import json_text

    register(secret)
    document = {"error": None, "ok": True, "size": 1714, "value": secret, "text": f"a {secret} b"}
    for text in (json_text(document), json_text(document, indent=2, compact=False)):
        parsed = json.loads(text)
        assert parsed["error"] is None
        assert parsed["size"] == 1714  # numbers are numbers, not secrets
        assert secret not in (parsed["value"], parsed["text"]) or len(secret.strip()) < MIN_MASKED
    out = tmp_path / "output"
    write_outputs(out, {"result-json": JsonOutput(document)})
    assert json.loads(out.read_text().partition("=")[2])["ok"] is True


def test_a_released_secret_is_forgotten_once_no_holder_is_left() -> None:
    """``hubci hub serve`` releases a build's values when the build ends; a value another
    build still holds stays masked until that one ends too."""
    from hubci.output import redact as registry

    first = Secret("build-env-value-77", key="TOKEN")
    second = Secret("build-env-value-77", key="TOKEN")
    first.release()
    assert registry.redact("x build-env-value-77 y") == "x *** y"
    second.release()
    assert registry.redact("x build-env-value-77 y") == "x build-env-value-77 y"
    second.release()  # more releases than holders: nothing happens
    assert registry.redact("TOKEN=build-env-value-77") == "TOKEN=build-env-value-77"
