"""Shared fixtures: an isolated environment for every test."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

#: fixture modules shared by the suite (each adds fixtures only)
pytest_plugins = [
    "testing.github_fake",
    "testing.engine",
    "testing.hub",
    "testing.action_image",
    "testing.registry",
    "testing.jina",
]


@pytest.fixture(autouse=True)
def _fresh_output_layer() -> None:
    """Each test starts with no registered secret and no annotation shown (a CLI run in the
    test process registers its secrets, as a real run does once per process)."""
    from hubci.output.console import reset_annotation_counts
    from hubci.output.redact import reset

    reset()
    reset_annotation_counts()


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never read the real HOME, tokens or CI context of the machine running the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("JINA_HUB_ROOT", str(home / ".jina"))
    for name in (
        "DOCKER_HOST",
        "JINA_AUTH_TOKEN",
        "JINA_HUBBLE_REGISTRY",
        "HUBCI_SECRET",
        "GITHUB_ACTIONS",
        "GITHUB_WORKSPACE",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_EVENT_PATH",
        "GITHUB_EVENT_NAME",
        "GITHUB_REF",
        "GITHUB_SHA",
        "CI",
        "NO_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
