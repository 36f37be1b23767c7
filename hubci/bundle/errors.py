"""Errors raised by the bundle package (one line each, saying what to do)."""

from __future__ import annotations

from hubci.errors import HubciError


class BundleError(HubciError):
    """The bundle could not be written (a file vanished, changed or became unreadable)."""


class UnsafeBundle(HubciError):
    """A zip the local Hub was asked to extract is malformed or hostile."""
