"""Findings are data: every validator returns them, reporters render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

Category = Literal[
    "config", "python", "requirements", "build-env", "dockerfile", "bundle-safety", "secret"
]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One problem (or note) about an executor folder, with where and how to fix it."""

    code: str
    category: Category
    severity: Severity
    message: str
    file: str | None = None  # relative to the executor folder, POSIX separators
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based
    hint: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "category": self.category,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class ExecutorReport:
    """The findings for one executor folder."""

    path: str
    name: str | None = None
    jtype: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def ok(self, *, strict: bool = False) -> bool:
        bad = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        return not any(f.severity in bad for f in self.findings)

    def to_json(self, *, strict: bool = False) -> dict[str, object]:
        return {
            "path": self.path,
            "name": self.name,
            "jtype": self.jtype,
            "ok": self.ok(strict=strict),
            "findings": [f.to_json() for f in self.findings],
        }
