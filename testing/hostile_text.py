"""Hypothesis strategies for hostile text: what a fork, a Hub or a build can put in front of
hubci's output channels (workflow commands in both forms, every line break the runner knows,
escapes, zero-width characters, markdown and HTML, and the run's secrets)."""

from __future__ import annotations

from hypothesis import strategies as st

#: Registered as secrets by the tests that use :func:`hostile_text`. All made up; the first has
#: the shape of a GitHub token and is put together here so that no file holds a token-shaped
#: string (secret scanners would rightly flag one).
FAKE_GITHUB_TOKEN = "ghp" + "_" + "FAKEnotARealToken0123456789"
SECRETS = (FAKE_GITHUB_TOKEN, "hub-token-Zq9", "pa55 w0rd")

FRAGMENTS = (
    "::set-output name=x::pwned",
    "::stop-commands::tok",
    "::add-mask::x",
    "::error file=a.py::boom",
    "##[set-output name=x;]pwned",
    "##[error]boom",
    "::",
    "##[",
    "#",
    ":",
    "\r",
    "\n",
    "\r\n",
    "\x1b[2K",
    "\x1b]0;title\x07",
    "%0A::set-output name=y::z",
    "%25",
    "\u200b",
    "\ufeff",
    "\u00ad",
    "\u2028",
    "  ",
    "\t",
    "</details>",
    "<details>",
    "<script>",
    "# heading",
    "\n# heading\n",
    "| a | b |",
    "`",
    "```",
    "@org/team",
    "[x](https://example.invalid)",
    "*",
    "_",
    "\\",
    *SECRETS,
    # a secret as a server may echo it back
    "pa55  w0rd",
    "pa55\nw0rd",
)


def hostile_text(max_parts: int = 12) -> st.SearchStrategy[str]:
    """Concatenations of hostile fragments and arbitrary text."""
    part = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8))
    return st.lists(part, max_size=max_parts).map("".join)
