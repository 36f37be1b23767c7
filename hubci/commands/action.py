"""``hubci action``: the entry point of the GitHub Action's container."""

from __future__ import annotations

import os

import click


@click.command()
def action() -> int:
    """Run as the GitHub Action: read INPUT_* and GITHUB_*, push, report to the job.

    Inputs, outputs and modes are documented in action.yml and the README.
    """
    from hubci.action.run import run_action

    return run_action(dict(os.environ))
