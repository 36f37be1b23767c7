"""pathspec's translation of .gitignore lines, kept between runs.

Translating a line is cheap; importing pathspec to do it costs ~10 ms, as much as the rest of
the pre-commit hook's own work. The hook runs again and again over the same ``.gitignore``, so
each line's translation (a regular expression and whether it includes or excludes, or the
reason it is invalid) is kept in ``$XDG_CACHE_HOME/hubci`` (``~/.cache/hubci``), in a file
named after pathspec's version: a translation is a pure function of the line and that version.

The cache is an accelerator only: a missing, unreadable, corrupt or foreign file is ignored and
rewritten, a failed write is ignored, and the file holds at most :data:`MAX_LINES` lines (each
at most :data:`MAX_LINE_LENGTH` characters), so hostile ``.gitignore`` files pushed to a Hub
cannot grow it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Final, TypeAlias

from hubci.bundle import cache

#: (regex, include) for a pattern, an error message for an invalid line, None for no pattern
Translation: TypeAlias = tuple[str, bool] | str | None

MAX_LINES: Final = 4096
MAX_LINE_LENGTH: Final = 1024
_VERSION: Final = re.compile(r"""^__version__\s*=\s*["']([0-9A-Za-z.+_-]{1,40})["']""", re.M)


def translate(lines: Sequence[str]) -> list[Translation]:
    """Each line's translation, from the cache where it has it, else from pathspec."""
    path = _cache_path()
    known = _load(path) if path is not None else {}
    missing = [line for line in dict.fromkeys(lines) if line not in known]
    if missing:
        fresh = {line: _translate(line) for line in missing}
        if path is not None:
            cacheable = {k: v for k, v in fresh.items() if len(k) <= MAX_LINE_LENGTH}
            if cacheable:
                if len(known) + len(cacheable) > MAX_LINES:
                    known = {}
                _store(path, {**known, **cacheable})
        known = {**known, **fresh}
    return [known[line] for line in lines]


def _translate(line: str) -> Translation:
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    except ValueError as exc:  # GitIgnorePatternError derives from ValueError
        return str(exc) or "invalid pattern"
    if include is None or regex is None:
        return None
    return (regex, include)


def _cache_path() -> Path | None:
    """The cache file for the installed pathspec (None: its version cannot be read)."""
    try:
        spec = find_spec("pathspec")
        if spec is None or not spec.submodule_search_locations:
            return None
        package = Path(next(iter(spec.submodule_search_locations)))
        found = _VERSION.search((package / "_version.py").read_text(encoding="utf-8"))
    except (OSError, ValueError, ImportError, StopIteration):
        return None
    if found is None:
        return None
    return cache.cache_path(f"gitignore-pathspec-{found.group(1)}.json")


def _load(path: Path) -> dict[str, Translation]:
    data = cache.load(path)
    if not isinstance(data, dict) or len(data) > MAX_LINES:
        return {}
    known: dict[str, Translation] = {}
    for line, value in data.items():
        if value is None or isinstance(value, str):
            known[line] = value
        elif (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], bool)
        ):
            known[line] = (value[0], value[1])
        else:
            return {}  # not a file this module wrote: start again
    return known


def _store(path: Path, known: dict[str, Translation]) -> None:
    cache.store(path, known)
