"""The one redactor: every form a secret can take on its way out, and the short-value rule."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from hubci.output.redact import MASK, MIN_MASKED, Redactor, redact, register
from hubci.secret import Secret

EXAMPLES = 500

secrets = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=MIN_MASKED
).filter(lambda s: len(s.strip()) >= MIN_MASKED)


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
