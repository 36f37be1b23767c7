"""The repository stands on its own: no file points at documents it does not contain.

- No text file of the repository names a document that lives outside it (the names are built
  from pieces below, so this file does not name them itself).
- Every relative markdown link in README.md, CONTRIBUTING.md and docs/*.md leads to a file of the
  repository, and a ``docs/<page>.md#anchor`` reference anywhere (code comments included) names a
  heading that page has.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: Documents outside the repository that nothing may point at.
OUTSIDE_DOCUMENTS = tuple(
    "".join(pieces)
    for pieces in (
        ("..", "/", "shared"),
        ("hub", "-protocol", ".md"),
        ("docker", "-engine", ".md"),
        ("tag", "-rules", ".md"),
        ("action", "-conventions", ".md"),
        ("github", "-api", ".md"),
        ("sty", "le", ".md"),
    )
)

_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n).)+?\1", re.S)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REFERENCE_LINK = re.compile(r"^ {0,3}\[(?!\^)[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_DOC_ANCHOR = re.compile(r"\bdocs/([A-Za-z0-9_-]+\.md)#([A-Za-z0-9_-]+)")


def repository_files() -> list[Path]:
    """The files git tracks, plus new ones it does not ignore (so a file is checked before it is
    first committed); files deleted from the work tree are left out."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"`git ls-files` failed in {REPO}: {exc}")
    names = sorted({n for n in done.stdout.decode("utf-8", "surrogateescape").split("\0") if n})
    return [REPO / name for name in names if (REPO / name).is_file()]


def read_text(path: Path) -> str | None:
    """The file as text, or None for a binary file (one holding a NUL byte)."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace")


def outside_mentions(text: str) -> list[tuple[int, str]]:
    """(line number, name) of every mention of a document outside the repository."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        found += [(number, name) for name in OUTSIDE_DOCUMENTS if name in line]
    return found


def _without_code(markdown: str) -> str:
    """Markdown with fenced blocks and code spans blanked out (links there are not links)."""
    markdown = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)
    return _CODE_SPAN.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)


def link_targets(markdown: str) -> list[str]:
    """The targets of the inline and reference links of a markdown text, outside code."""
    prose = _without_code(markdown)
    return _INLINE_LINK.findall(prose) + _REFERENCE_LINK.findall(prose)


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a markdown text (``## The push stream`` is
    ``the-push-stream``; a repeated heading gets ``-1``, ``-2``, …)."""
    anchors: set[str] = set()
    for heading in _HEADING.findall(_without_fences(markdown)):
        text = re.sub(r"<[^>]+>", "", heading).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in anchors:
            number += 1
            candidate = f"{slug}-{number}"
        anchors.add(candidate)
    return anchors


def _without_fences(markdown: str) -> str:
    return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), markdown)


def broken_links(doc: Path, root: Path) -> list[str]:
    """The relative link targets of ``doc`` that lead to no file or folder inside ``root``, and
    those whose ``#anchor`` names no heading of the markdown page they lead to."""
    problems: list[str] = []
    for target in link_targets(doc.read_text(encoding="utf-8")):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # https:, mailto:, …: not a file of the repository
        path_part, _, anchor = target.partition("#")
        path_part = path_part.split("?", 1)[0]
        if not path_part:
            page = doc  # "#anchor": this page
        else:
            base = root if path_part.startswith("/") else doc.parent
            page = (base / path_part.lstrip("/")).resolve()
            if not page.is_relative_to(root.resolve()) or not page.exists():
                problems.append(f"{target} (no such file in the repository)")
                continue
        is_page = page.suffix == ".md" and page.is_file()
        if anchor and is_page and anchor not in heading_anchors(page.read_text(encoding="utf-8")):
            problems.append(f"{target} (no heading #{anchor} in {page.name})")
    return problems


def broken_doc_anchors(text: str, docs: Path) -> list[str]:
    """``docs/<page>.md#anchor`` references in ``text`` whose page or heading does not exist."""
    problems: list[str] = []
    for page_name, anchor in _DOC_ANCHOR.findall(text):
        page = docs / page_name
        if not page.is_file():
            problems.append(f"docs/{page_name}#{anchor} (no such page)")
        elif anchor not in heading_anchors(page.read_text(encoding="utf-8")):
            problems.append(f"docs/{page_name}#{anchor} (no such heading)")
    return problems


def _texts(paths: Iterable[Path]) -> Iterable[tuple[Path, str]]:
    for path in paths:
        text = read_text(path)
        if text is not None:
            yield path, text


def test_no_file_points_outside_the_repository() -> None:
    files = repository_files()
    assert REPO / "README.md" in files  # the listing works
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {name}"
        for path, text in _texts(files)
        for number, name in outside_mentions(text)
    ]
    assert offenders == [], "point at the repository's own docs instead:\n" + "\n".join(offenders)


def test_relative_markdown_links_lead_to_files_of_the_repository() -> None:
    docs = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
    assert REPO / "docs" / "protocol.md" in docs
    problems = [
        f"{doc.relative_to(REPO)}: {problem}" for doc in docs for problem in broken_links(doc, REPO)
    ]
    assert problems == [], "\n".join(problems)


def test_doc_anchors_named_in_the_code_exist() -> None:
    problems = [
        f"{path.relative_to(REPO)}: {problem}"
        for path, text in _texts(repository_files())
        for problem in broken_doc_anchors(text, REPO / "docs")
    ]
    assert problems == [], "\n".join(problems)


# -- the checks themselves catch what they look for ------------------------------------------


def test_every_outside_name_is_caught_and_this_file_names_none() -> None:
    for name in OUTSIDE_DOCUMENTS:
        assert outside_mentions(f"line one\nsee {name} §4\n") == [(2, name)]
    assert outside_mentions("docs/protocol.md, docs/tags.md and shared/** are fine\n") == []
    assert outside_mentions(Path(__file__).read_text(encoding="utf-8")) == []


def test_binary_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0" + OUTSIDE_DOCUMENTS[1].encode())
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 " + OUTSIDE_DOCUMENTS[1].encode())
    assert read_text(tmp_path / "blob.bin") is None
    text = read_text(tmp_path / "latin1.txt")
    assert text is not None
    assert outside_mentions(text) == [(1, OUTSIDE_DOCUMENTS[1])]


def test_broken_links_and_anchors_are_caught(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    other = "# Other\n\n## The push stream\n\n## Rules (`--tags`)\n"
    (tmp_path / "docs" / "other.md").write_text(other)
    (tmp_path / "outside.md").write_text("x\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](other.md) [ok](other.md#the-push-stream) [ok](other.md#rules---tags) [ok](#page)\n"
        "[ok](https://example.com/x.md) [ok](mailto:a@b.c) ![ok](../outside.md)\n"
        "`[code](missing-in-code.md)`\n\n```\n[fenced](missing-in-fence.md)\n```\n\n"
        "[bad](missing.md) [bad](other.md#no-such-heading) [bad](../../escape.md)\n"
        "[bad][ref]\n\n[ref]: gone.md\n[^1]: a footnote, not a link\n"
    )
    assert broken_links(page, tmp_path) == [
        "missing.md (no such file in the repository)",
        "other.md#no-such-heading (no heading #no-such-heading in other.md)",
        "../../escape.md (no such file in the repository)",
        "gone.md (no such file in the repository)",
    ]
    d = "docs"  # spelled apart so that this file holds no such reference itself
    code = f"see {d}/other.md#the-push-stream, {d}/other.md#gone and {d}/none.md#x\n"
    assert broken_doc_anchors(code, tmp_path / "docs") == [
        f"{d}/other.md#gone (no such heading)",
        f"{d}/none.md#x (no such page)",
    ]


def test_anchors_follow_github() -> None:
    markdown = (
        "# The Hub wire protocol\n## Names, tags and platforms\n### Rules (`--tags`)\n"
        "## Step\n## Step\n```\n# not a heading\n```\n"
    )
    assert heading_anchors(markdown) == {
        "the-hub-wire-protocol",
        "names-tags-and-platforms",
        "rules---tags",
        "step",
        "step-1",
    }
