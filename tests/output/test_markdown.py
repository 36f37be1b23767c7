"""The markdown escaper, read back by a CommonMark parser with GitHub's tables."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from hubci.output.markdown import cell, code, text
from testing.hostile_text import hostile_text

EXAMPLES = 400
GFM = MarkdownIt("commonmark").enable("table")


def inline_children(tokens: list[Token]) -> list[Token]:
    return [child for t in tokens if t.type == "inline" for child in (t.children or [])]


def assert_literal(tokens: list[Token]) -> None:
    """Nothing but text and code came out of untrusted text: no HTML, link, image or emphasis."""
    for child in inline_children(tokens):
        assert child.type in {"text", "code_inline", "softbreak"}, child
    assert not any(t.type in {"html_block", "heading_open", "hr"} for t in tokens)


@settings(max_examples=EXAMPLES)
@given(st.lists(hostile_text(), min_size=1, max_size=4), st.integers(min_value=1, max_value=3))
def test_a_table_keeps_its_shape(values: list[str], rows: int) -> None:
    head = "| " + " | ".join(f"c{i}" for i in range(len(values))) + " |"
    rule = "|" + " --- |" * len(values)
    body = ["| " + " | ".join(cell(v) for v in values) + " |" for _ in range(rows)]
    markdown = "\n".join([head, rule, *body]) + "\n"
    tokens = GFM.parse(markdown)
    assert [t.type for t in tokens].count("tr_open") == rows + 1
    assert [t.type for t in tokens].count("td_open") == rows * len(values)
    assert_literal(tokens)


@settings(max_examples=EXAMPLES)
@given(hostile_text())
def test_a_code_span_cannot_close_details_or_start_a_block(value: str) -> None:
    markdown = f"<details><summary>x</summary>\n\n- {code(value)}\n\n</details>\n\n## after\n"
    tokens = GFM.parse(markdown)
    html = [t.content.strip() for t in tokens if t.type == "html_block"]
    assert html == ["<details><summary>x</summary>", "</details>"]
    assert [t.type for t in tokens].count("heading_open") == 1
    items = [t for t in inline_children(tokens) if t.type == "code_inline"]
    assert len(items) <= 1


@settings(max_examples=EXAMPLES)
@given(hostile_text())
def test_prose_is_plain_text(value: str) -> None:
    tokens = GFM.parse(f"{text(value)}\n")
    assert [t.type for t in tokens] in ([], ["paragraph_open", "inline", "paragraph_close"])
    assert_literal(tokens)
    rendered = GFM.render(f"{text(value)}\n")
    assert "<a " not in rendered
    assert "<h" not in rendered


def test_code_examples() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert cell("a|b") == "`a\\|b`"
    assert code("line\r</details>\n# h") == "`line </details> # h`"
    assert code("") == "-"
    assert code("x" * 500, limit=10) == "`xxxxxxxxx…`"


@settings(max_examples=EXAMPLES)
@given(
    st.lists(hostile_text(6), min_size=1, max_size=30),
    st.integers(min_value=40, max_value=2000),
    st.booleans(),
)
def test_truncation_never_cuts_a_span_open(names: list[str], limit: int, fenced: bool) -> None:
    """A comment or summary cut to size: every untrusted text is still inside its span (a cut
    inside one let the rest render: mentions, links, ``</details>``)."""
    from hubci.output.markdown import truncate

    rows = [
        f"| {cell('x' * 30 + ' ' + name + ' @octocat [pwn](https:evil.example)')} |"
        for name in names
    ]
    body = ["## head", "", "<details><summary>s</summary>", "", "| a |", "| --- |", *rows]
    if fenced:
        body += ["", "```yaml", *(f"uses: {n!r}" for n in names), "```"]
    body += ["", "</details>", ""]
    note = "\n\n… (truncated)"
    out = truncate("\n".join(body), limit, note)
    assert len(out) <= max(limit, len(note))
    tokens = GFM.parse(out)
    for child in inline_children(tokens):
        assert child.type != "link_open", child
        if child.type == "text":
            assert "@octocat" not in child.content, out
    html = [t.content.strip() for t in tokens if t.type == "html_block"]
    assert html.count("</details>") == html.count("<details><summary>s</summary>")


def test_truncate_measures_bytes_when_told() -> None:
    from hubci.output.markdown import truncate

    text = "\n".join(["é" * 10] * 10)
    out = truncate(text, 50, "…", size=lambda t: len(t.encode()))
    assert len(out.encode()) <= 50
    assert out.split("\n")[0] == "é" * 10


def test_one_table_two_renderings() -> None:
    from hubci.output.table import Column, Own, Table

    table = Table([Column("executor"), Column("status"), Column("tags", empty="latest")])
    table.add("team-a/enc|x", Own("failed"), "")
    table.add("b", Own("succeeded"), "v1, v1.4")
    assert table.text().splitlines() == [
        "executor      status     tags",
        "team-a/enc|x  failed     latest",
        "b             succeeded  v1, v1.4",
    ]
    rows = GFM.parse(table.markdown())
    assert [t.type for t in rows].count("tr_open") == 3
    assert "| `team-a/enc\\|x` | failed | latest |" in table.markdown()
