"""Ignore rules: which paths of an executor folder stay out of the bundle.

Two rule files are honoured, both compiled from pathspec's gitignore patterns:

* ``.gitignore`` with git's semantics: a pattern is matched at any depth unless it contains a
  ``/``; an ignored directory is never entered, so ``!`` cannot re-include anything beneath it.
  Without a ``.gitignore`` the built-in :data:`DEFAULT_IGNORE` list applies instead.
* ``.dockerignore`` with Docker's semantics: every pattern is anchored at the folder root, a
  pattern that matches a directory excludes everything beneath it, and a later ``!`` pattern can
  re-include a path below an excluded directory (that directory is then entered). As in Docker,
  ``.dockerignore`` never excludes ``Dockerfile`` and ``.dockerignore`` at the root: the builder
  needs them (and applies ``.dockerignore`` again when it copies the context into the image).

A path is bundled when neither file ignores it. ``.git`` and ``.jina`` are always excluded.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from hubci.bundle import codes, patterncache
from hubci.findings import Finding, Severity

if TYPE_CHECKING:  # pathspec is imported when a .dockerignore needs it (start-up cost)
    from pathspec import PathSpec
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

#: Applied when the folder has no ``.gitignore`` (docs/bundle.md explains each line).
DEFAULT_IGNORE: Final[tuple[str, ...]] = (
    # Python byte code, caches and tool state
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    ".ipynb_checkpoints/",
    ".coverage",
    ".coverage.*",
    "htmlcov/",
    ".cache/",
    # virtualenvs (any folder holding pyvenv.cfg is skipped as well)
    ".venv/",
    "venv/",
    # packaging output
    "build/",
    "dist/",
    "*.egg-info/",
    ".eggs/",
    # logs and CI configuration (not needed in the image)
    "*.log",
    ".github/",
    # editors and operating systems
    ".idea/",
    ".vscode/",
    "*.swp",
    ".DS_Store",
    "Thumbs.db",
    # local environment files (examples and templates are meant to be shared)
    ".env",
    ".env.*",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
)

#: Never bundled, whatever the rule files say.
ALWAYS_IGNORED: Final[tuple[str, ...]] = (".git", ".jina")
#: Root files .dockerignore cannot exclude (Docker's own rule; .gitignore still can).
DOCKER_KEEPS: Final[tuple[str, ...]] = ("Dockerfile", ".dockerignore")


_DIR_MARK: Final = "(?P<ps_d>/)"


def _strictly_below(text: str) -> bool:
    text = text.rstrip()
    return text.endswith("/**/") and text.lstrip("!/") != "**/"


class GitPattern(NamedTuple):
    """One .gitignore line as pathspec translates it, not yet compiled: :class:`GitRules`
    compiles a pattern only when a path could match it (see :func:`required_literal`)."""

    text: str
    regex: str
    include: bool


def matcher_source(pattern: GitPattern) -> tuple[str, bool]:
    """The regular expression :class:`GitRules` searches a path with, and whether it is a
    prefix match (one without an end anchor, see the class notes)."""
    source = pattern.regex
    if _strictly_below(pattern.text) and source.endswith(_DIR_MARK):
        # pathspec reads `x/**/` as folder `x/`; git: the folders inside `x`
        return source[: -len(_DIR_MARK)] + "/.+/\\Z", False
    if source.endswith(("$", _DIR_MARK, "|$)")):
        return f"(?:{source})\\Z", False
    return source, True


def required_literal(text: str) -> str:
    """A piece of text every path a gitignore pattern matches contains ("" when unsure).

    The longest run of plain characters before any character class: ``*.py[cod]`` gives
    ``.py``, ``docs/_build/`` gives ``_build``. A pattern with an escape gives "" (its
    characters are not taken literally), as does one of wildcards only. Most lines of a
    typical ``.gitignore`` then never meet a path that could match them and are never compiled
    (compiling a standard Python template's ~80 lines costs the pre-commit hook ~4 ms).
    """
    if "\\" in text:
        return ""
    plain = text.removeprefix("!").split("[", 1)[0].strip()
    return max(re.split(r"[*?/]", plain), key=len)


class _Rule:
    """One pattern of :class:`GitRules`, compiled on first use."""

    __slots__ = ("_regex", "_source", "literal", "pattern", "prefix")

    def __init__(self, pattern: GitPattern) -> None:
        self.pattern = pattern
        self.literal = required_literal(pattern.text)
        self._source, self.prefix = matcher_source(pattern)
        self._regex: re.Pattern[str] | None = None

    def search(self, path: str) -> re.Match[str] | None:
        if self.literal not in path:
            return None
        if self._regex is None:
            self._regex = _compile_quietly(self._source)
        return self._regex.search(path)


class GitRules:
    """git's matching for one path whose parent folders are already known not to be ignored.

    git tests each path (a folder as ``dir/``) against every pattern, and the last pattern that
    matches the path *itself* decides. pathspec's matchers also count a pattern that matches a
    parent folder, and GitIgnoreSpec ranks matches in a way that differs from git for folders
    (``*``, ``!*.py``, ``!*/`` would leave every folder out). Since the walk prunes ignored
    folders itself, the patterns are applied here to the path alone, last one wins, reusing
    pathspec's translation of each pattern to a regular expression:

    * a regex ending in ``$`` or in the folder marker ``/`` matches the path itself only if it
      matches up to the end of the path;
    * a regex without an end anchor (``.`` for ``*``, ``^a/`` for ``a/**``) matches whatever
      starts like it, except the folder that ``x/**`` is inside of (git: its content only);
    * ``x/**/`` matches the folders inside ``x``, not ``x`` (pathspec reads it as ``x/``).
    """

    def __init__(self, patterns: Iterable[GitPattern]) -> None:
        self._last_first = [_Rule(pattern) for pattern in patterns][::-1]

    def ignores(self, path: str) -> bool:
        """``path`` is relative, POSIX, with a trailing ``/`` for a folder."""
        for rule in self._last_first:
            found = rule.search(path)
            if found is None:
                continue
            if rule.prefix and path.endswith("/") and found.end() == len(path):
                continue  # `x/**` and folder `x/` itself
            return rule.pattern.include
        return False


@dataclass(frozen=True)
class IgnoreRules:
    """The compiled rules of one folder."""

    #: git's rules, applied one path at a time as git does (parents are the walk's business)
    git: GitRules
    #: Docker's matcher: the last matching pattern wins, whether it matched the path or a parent
    docker: PathSpec[GitIgnoreSpecPattern] | None
    #: Components of each ``!`` pattern of .dockerignore (to decide whether to enter a directory).
    docker_negations: tuple[tuple[str, ...], ...]
    #: ".gitignore" or "built-in default"
    source: str
    problems: tuple[Finding, ...]

    def prunes_dir(self, rel: str) -> bool:
        """True when the walk must not enter directory ``rel``."""
        if self.git.ignores(rel + "/"):
            return True
        if self.docker is None or not self.docker.match_file(rel + "/"):
            return False
        parts = tuple(rel.split("/"))
        return not any(_may_match_below(neg, parts) for neg in self.docker_negations)

    def ignores_file(self, rel: str) -> bool:
        """True when file ``rel`` is excluded (its directories are checked by the walk)."""
        if self.git.ignores(rel):
            return True
        return self.docker is not None and self.docker.match_file(rel)

    def selects(self, rel: str, *, is_dir: bool) -> bool:
        """Whether ``rel`` would be reached and kept by the walk (checks every parent)."""
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            if self.prunes_dir("/".join(parts[:depth])):
                return False
        return not (self.prunes_dir(rel) if is_dir else self.ignores_file(rel))


def load_rules(folder: Path) -> IgnoreRules:
    """Read ``.gitignore`` and ``.dockerignore`` of ``folder`` (its top level only)."""
    problems: list[Finding] = []
    gitignore = folder / ".gitignore"
    if _exists(gitignore):
        git_lines = _read_lines(gitignore, problems)
        source = ".gitignore"
    else:
        git_lines = list(DEFAULT_IGNORE)
        source = "built-in default"
    git_patterns = _translate(".gitignore", enumerate(git_lines, start=1), problems)
    # appended last so that no `!` line can re-include them
    git_patterns += _translate(".gitignore", enumerate(ALWAYS_IGNORED, start=1), problems)

    docker: PathSpec[GitIgnoreSpecPattern] | None = None
    negations: list[tuple[str, ...]] = []
    dockerignore = folder / ".dockerignore"
    if _exists(dockerignore):
        from pathspec import PathSpec
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

        translated: list[tuple[int, str]] = []
        for number, raw in enumerate(_read_lines(dockerignore, problems), start=1):
            pattern = _docker_to_gitignore(raw)
            if pattern is None:
                continue
            translated.append((number, pattern))
            if pattern.startswith("!"):
                negations.append(tuple(pattern[2:].split("/")))
        docker_patterns = _compile(".dockerignore", translated, problems)
        docker_patterns += [GitIgnoreSpecPattern(f"!/{name}") for name in DOCKER_KEEPS]
        docker = PathSpec(docker_patterns)
    return IgnoreRules(
        git=GitRules(git_patterns),
        docker=docker,
        docker_negations=tuple(negations),
        source=source,
        problems=tuple(problems),
    )


def _exists(path: Path) -> bool:
    """A rule file is there (even if unreadable: reading it then reports the problem)."""
    try:
        return path.is_file()
    except OSError:
        return True


def _read_lines(path: Path, problems: list[Finding]) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(
            codes.finding(
                codes.UNREADABLE,
                Severity.ERROR,
                f"cannot read {path.name}: {exc.strerror or exc}",
                file=path.name,
                hint="make the file readable; its rules decide what is uploaded",
            )
        )
        return []
    return data.decode("utf-8-sig", errors="replace").splitlines()


def _translate(
    name: str, lines: Iterable[tuple[int, str]], problems: list[Finding]
) -> list[GitPattern]:
    """Each line's pattern, translated to a regular expression but not compiled (GitRules
    compiles it when needed); an invalid line is reported and skipped, as :func:`_compile`
    does."""
    numbered = list(lines)
    patterns: list[GitPattern] = []
    translations = patterncache.translate([line for _, line in numbered])
    for (number, line), translation in zip(numbered, translations, strict=True):
        if translation is None:
            continue
        if isinstance(translation, str):
            problems.append(_bad_pattern(name, number, ValueError(translation)))
            continue
        pattern = GitPattern(line, *translation)
        if "[" in pattern.regex:  # pathspec passes a class such as `[z-a]` on to `re` unchecked
            try:
                _compile_quietly(matcher_source(pattern)[0])
            except re.error as exc:
                problems.append(_bad_pattern(name, number, ValueError(f"{line!r}: {exc.msg}")))
                continue
        patterns.append(pattern)
    return patterns


def _compile_quietly(source: str) -> re.Pattern[str]:
    """Compile a translated pattern; `re` warns about classes such as `[[]` that a future
    Python may read as nested sets, which is the user's text, not a problem of hubci's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(source)


def _bad_pattern(name: str, number: int, exc: ValueError) -> Finding:
    return codes.finding(
        codes.BAD_IGNORE_PATTERN,
        Severity.WARNING,
        f"invalid pattern skipped: {exc}",
        file=name,
        line=number,
        hint="fix or remove the line; it currently ignores nothing",
    )


def _compile(
    name: str, lines: Iterable[tuple[int, str]], problems: list[Finding]
) -> list[GitIgnoreSpecPattern]:
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    patterns: list[GitIgnoreSpecPattern] = []
    for number, line in lines:
        try:
            with warnings.catch_warnings():  # as in _compile_quietly
                warnings.simplefilter("ignore", FutureWarning)
                pattern = GitIgnoreSpecPattern(line)
        except ValueError as exc:  # GitIgnorePatternError derives from ValueError
            problems.append(_bad_pattern(name, number, exc))
            continue
        except re.error as exc:  # a class `re` refuses, e.g. `[z-a]`
            problems.append(_bad_pattern(name, number, ValueError(f"{line!r}: {exc.msg}")))
            continue
        if pattern.include is not None:
            patterns.append(pattern)
    return patterns


def _docker_to_gitignore(raw: str) -> str | None:
    """A .dockerignore line as an equivalent anchored gitignore pattern (None: no pattern).

    Docker trims the line, cleans it like Go's ``filepath.Clean`` and drops a leading ``/``; the
    pattern then matches a path or any of its parents, which is what an anchored gitignore
    pattern without a trailing ``/`` does.
    """
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:].strip()
    cleaned = posixpath.normpath(line).lstrip("/") if line else ""
    if cleaned in ("", "."):
        return None
    return ("!/" if negate else "/") + cleaned


def _may_match_below(negation: tuple[str, ...], dir_parts: tuple[str, ...]) -> bool:
    """Whether a ``!`` pattern could match something inside the directory ``dir_parts``.

    Errs on the side of yes (entering a directory costs a scan; every file is still checked
    exactly), e.g. for ``**`` and for components with escapes or character classes.
    """
    for depth, part in enumerate(dir_parts):
        if depth >= len(negation):
            return False
        component = negation[depth]
        if "**" in component or "\\" in component or "[" in component:
            return True
        if not fnmatchcase(part, component):
            return False
    return len(negation) > len(dir_parts)
