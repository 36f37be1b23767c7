"""A string that never shows itself: repr/str are masked, the value is read explicitly.

Making a Secret registers its value with the output layer's redactor
(:mod:`hubci.output.redact`), so it is masked in everything hubci writes from then on, whichever
path it takes. ``key`` names it where it has a name (a build env ``KEY``), so ``KEY=value`` is
masked even for a value too short to search for on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubci.output.redact import register, release


@dataclass(frozen=True)
class Secret:
    _value: str = field(repr=False)
    key: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        register(self._value, key=self.key)

    def reveal(self) -> str:
        return self._value

    def release(self) -> None:
        """This holder is done with the value: the redactor may forget it once no other
        Secret of the same value is left (hubci.output.redact.release)."""
        release(self._value, key=self.key)

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __bool__(self) -> bool:
        return bool(self._value)
