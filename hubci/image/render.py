"""Output of ``hubci build``: streamed log lines, a per-platform summary, or one JSON document.

``--format json`` prints exactly ``{"status", "builds": [{"platform", "image_id", "tags", "size",
"duration_s", "error"}]}`` on stdout; everything else (log lines, notes) goes to stderr then, so
stdout stays parseable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubci import rules
from hubci.image.builder import PlatformBuild
from hubci.output.console import Console
from hubci.output.sizes import human_size

Format = rules.ResultFormat


def status_of(builds: Sequence[PlatformBuild]) -> str:
    return "succeeded" if builds and all(b.ok for b in builds) else "failed"


class Reporter(Protocol):
    """What :func:`hubci.image.run.run_build` reports to (the CLI's :class:`BuildReporter`, or
    another front end such as the Action)."""

    def note(self, text: str) -> None: ...

    def problem(self, text: str) -> None: ...

    def log(self, platform: str, line: str) -> None: ...

    def result(self, builds: Sequence[PlatformBuild], *, kept: bool) -> None: ...


class BuildReporter:
    """Where ``hubci build`` writes: log lines and notes as they happen, then the result."""

    def __init__(self, fmt: Format, *, multi: bool) -> None:
        self.fmt = fmt
        self.multi = multi
        self.reported = False
        self.console = Console()

    @property
    def _err(self) -> bool:
        return self.fmt == "json"

    def note(self, text: str) -> None:
        self.console.line(text, err=self._err)

    def problem(self, text: str) -> None:
        """Validation findings and warnings: always stderr."""
        self.console.err(text)

    def log(self, platform: str, line: str) -> None:
        prefix = f"[{platform}] " if self.multi else ""
        self.console.line(f"{prefix}{line}", err=self._err)

    def stopped(self) -> None:
        """A run that ended in an error before any result: with ``--format json`` still one
        document (no builds); the one-line error goes to stderr as always."""
        if self.fmt == "json" and not self.reported:
            self.console.json({"status": "failed", "builds": []}, indent=2)

    def result(self, builds: Sequence[PlatformBuild], *, kept: bool) -> None:
        self.reported = True
        if self.fmt == "json":
            document = {"status": status_of(builds), "builds": [b.to_json() for b in builds]}
            self.console.json(document, indent=2)
            return
        out = self.console.out
        out("")
        width = max((len(b.platform) for b in builds), default=0)
        for build in builds:
            if build.ok:
                image = (build.image_id or "")[:19]
                where = ", ".join(build.tags) if kept else "removed"
                out(
                    f"{build.platform:<{width}}  ok      {image}  {human_size(build.size)}  "
                    f"{build.duration_s:.1f} s  {where}"
                )
            else:
                out(f"{build.platform:<{width}}  FAILED  {build.error}")
                for line in build.step_output[-20:-1]:
                    out(f"{'':<{width}}          | {line}")
        failed = [b.platform for b in builds if not b.ok]
        if failed:
            out(f"build failed for {', '.join(failed)}")
        else:
            out(f"build succeeded for {', '.join(b.platform for b in builds)}")
