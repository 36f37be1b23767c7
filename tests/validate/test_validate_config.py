"""config.yml reading: Jina tags tolerated, locations kept, the push name resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubci.executor.config import Located, load_config, resolve_name
from hubci.findings.codes import CODES
from hubci.validate import validate_folder
from tests.validate.support import MakeExecutor


def _write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def test_locations_of_jtype_py_modules_and_name(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {
            "config.yml": "# header\njtype: MyExec\nmetas:\n  name: my-exec\n  py_modules:\n"
            "    - a.py\n    - pkg/__init__.py\n"
        },
    )
    info = load_config(folder)
    assert info.findings == []
    assert (info.jtype, info.jtype_line) == ("MyExec", 2)
    assert (info.metas_name, info.metas_name_line) == ("my-exec", 4)
    assert info.py_modules == ["a.py", "pkg/__init__.py"]
    assert info.py_module_locs == [Located("a.py", 6, 7), Located("pkg/__init__.py", 7, 7)]
    assert info.py_modules_where == "metas"


def test_py_modules_at_the_top_level_as_a_string(tmp_path: Path) -> None:
    info = load_config(_write(tmp_path, {"config.yml": "jtype: A\npy_modules: a.py\n"}))
    assert (info.py_modules, info.py_modules_where) == (["a.py"], "root")
    assert info.py_module_locs == [Located("a.py", 2, 13)]


def test_jina_tags_do_not_crash_the_parser(tmp_path: Path) -> None:
    text = (
        "jtype: MyExec\n"
        "with:\n"
        "  encoder: !TransformerEncoder\n"
        "    model: bert\n"
        "  items: !MyList [1, 2]\n"
        "  path: !Path /tmp/x\n"
        "  obj: !!python/object:os.system {}\n"
        "metas:\n  py_modules: [a.py]\n"
    )
    info = load_config(_write(tmp_path, {"config.yml": text}))
    assert info.findings == []
    assert info.data is not None
    assert info.data["with"]["encoder"] == {"model": "bert"}
    assert info.data["with"]["items"] == [1, 2]
    assert info.data["with"]["obj"] == {}
    assert info.data["with"]["path"] == "/tmp/x"


def test_legacy_root_tag_is_remembered(tmp_path: Path) -> None:
    info = load_config(_write(tmp_path, {"config.yml": "!MyExec\nwith: {a: 1}\n"}))
    assert info.root_tag == "!MyExec"
    assert info.jtype is None
    assert info.findings == []


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("jtype: A\nmetas:\n  name: [x\n", 4, 1),
        ("jtype: A\n  bad: indent\n", 2, 6),
        ("jtype: 'unclosed\n", 2, 1),
        ("a: 1\n---\nb: 2\n", 2, 1),
    ],
)
def test_yaml_errors_carry_line_and_column(tmp_path: Path, text: str, line: int, col: int) -> None:
    info = load_config(_write(tmp_path, {"config.yml": text}))
    assert [(f.code, f.line, f.col) for f in info.findings] == [("HUB103", line, col)]
    assert info.data is None


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "null\n", "42\n", "[a, b]\n", "just a string\n"]
)
def test_documents_that_are_not_mappings(tmp_path: Path, text: str) -> None:
    info = load_config(_write(tmp_path, {"config.yml": text}))
    assert [f.code for f in info.findings] == ["HUB104"]


def test_invalid_timestamp_is_a_yaml_finding_not_a_crash(tmp_path: Path) -> None:
    info = load_config(_write(tmp_path, {"config.yml": "jtype: A\nwhen: 2020-13-45\n"}))
    assert [f.code for f in info.findings] == ["HUB103"]


def test_missing_config(tmp_path: Path) -> None:
    info = load_config(tmp_path)
    assert not info.exists
    assert info.findings == []


EXEC = "from jina import Executor\n\n\nclass Found(Executor):\n    pass\n"


@pytest.mark.parametrize(
    ("files", "explicit", "expected"),
    [
        ({"config.yml": "jtype: A\nmetas:\n  name: from-metas\n"}, "cli", ("cli", "--name")),
        (
            {"config.yml": "jtype: A\nmetas:\n  name: from-metas\n", "manifest.yml": "name: m\n"},
            None,
            ("from-metas", "metas.name"),
        ),
        (
            {"config.yml": "jtype: A\nmetas:\n  name: ''\n", "manifest.yml": "name: from-man\n"},
            None,
            ("from-man", "manifest.yml"),
        ),
        ({"config.yml": "jtype: A\n"}, None, ("A", "jtype")),
        ({"executor.py": EXEC}, None, ("Found", "jtype")),
        ({"config.yml": "metas: {}\n"}, None, (None, "none")),
        ({"README.md": "nothing\n"}, None, (None, "none")),
    ],
)
def test_resolve_name_sources(
    tmp_path: Path,
    files: dict[str, str],
    explicit: str | None,
    expected: tuple[str | None, str],
) -> None:
    assert resolve_name(_write(tmp_path, files), explicit) == expected


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        (
            "jinahub.exec1.exec",
            "py_modules lists files, not module names: write the file's path relative to the "
            "executor folder, e.g. `jinahub/exec1/exec.py`",
        ),
        ("pkg", "list the package's file: `pkg/__init__.py`"),
        ("missing.py", CODES["HUB110"].hint),
    ],
)
def test_missing_py_module_hint_names_the_usual_slip(
    make_executor: MakeExecutor, entry: str, hint: str
) -> None:
    folder = make_executor(
        {"config.yml": f"jtype: MyExecutor\npy_modules: {entry}\n", "pkg/__init__.py": ""}
    )
    [found] = [f for f in validate_folder(folder).findings if f.code == "HUB110"]
    assert found.hint == hint
