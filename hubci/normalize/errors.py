"""The normalizer's failure codes (docs/protocol.md#failure-codes)."""

from __future__ import annotations

from hubci.errors import BuildFailed

EXECUTOR_NOT_FOUND = 4000
EXECUTOR_EXISTS = 4001
ILLEGAL_EXECUTOR = 4002
BROKEN_DEPENDENCY = 4003
OTHERS = 5000

_HINTS = {
    EXECUTOR_NOT_FOUND: "make config.yml's jtype name a class listed in py_modules",
    EXECUTOR_EXISTS: "keep exactly one Executor class per bundle",
    ILLEGAL_EXECUTOR: "give the Executor's __init__ a parameter without a default (self)",
    BROKEN_DEPENDENCY: "break the cycle of relative imports",
    OTHERS: "fix config.yml and the executor's modules (`hubci validate` shows where)",
}


class NormalizeError(BuildFailed):
    """The Hub's normalizer rejects the bundle: ``code`` is 4000-4003 or 5000."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message, hint=_HINTS.get(code))
        self.code = code
