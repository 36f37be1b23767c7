"""Options shared by the commands that talk to a Hub (``push``, ``status``), defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from hubci import rules

F = TypeVar("F", bound=Callable[..., object])


def hub_options(func: F) -> F:
    """``--hub``, ``--hub-url`` and ``--token``, resolved by ``hubci.push.plan``."""
    for option in reversed(
        (
            click.option(
                "--hub", metavar="local|URL", help="Hub: 'local' (an embedded local Hub) or a URL."
            ),
            click.option(
                "--hub-url",
                metavar="URL",
                help="Hub base URL (default: $JINA_HUBBLE_REGISTRY, else the public Hub).",
            ),
            click.option(
                "--token",
                metavar="TOKEN",
                help="Hub token (default: $JINA_AUTH_TOKEN, else ~/.jina/config.json).",
            ),
        )
    ):
        func = option(func)
    return func


def result_format_option(func: F) -> F:
    """``--format text|json`` for the final result (stored as ``output``)."""
    return click.option(
        "--format",
        "output",
        type=click.Choice(rules.RESULT_FORMATS),
        default="text",
        show_default=True,
        help="Final result as text or one JSON object.",
    )(func)
