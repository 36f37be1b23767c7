"""requirements.txt: every form pip accepts passes; mistakes and secrets are found by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from hubci.validate.requirements import check_requirements, is_simple_requirement


def _check(tmp_path: Path, text: str | bytes) -> list[tuple[str, int | None, int | None]]:
    path = tmp_path / "requirements.txt"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return [(f.code, f.line, f.col) for f in check_requirements(tmp_path).findings]


@pytest.mark.parametrize(
    "line",
    [
        "numpy",
        "numpy>=1.21,<2",
        "NumPy == 1.26.*",
        "pillow[avif,webp]>=10",
        'torch>=2; python_version >= "3.8" and sys_platform == "linux"',
        "torch==2.1.0+cpu",
        "mylib @ git+https://github.com/org/mylib@v1.0#egg=mylib",
        "mylib@ https://example.com/mylib-1.0.tar.gz",
        "git+https://github.com/org/repo.git@main#egg=repo",
        "git+ssh://git@github.com/org/repo.git@0123abc",
        "hg+https://hg.example.com/repo#egg=repo",
        "https://example.com/pkg-1.0-py3-none-any.whl",
        "numpy==1.26.4 --hash=sha256:00ff",
        "numpy==1.26.4 --hash sha256:00ff --hash=sha256:11ee",
        "torch==${TORCH_VERSION}",
        "private @ git+https://${GH_TOKEN}@github.com/org/private.git",
        "private @ git+https://oauth2:${GITLAB_TOKEN}@gitlab.com/org/private.git",
        "-f https://download.pytorch.org/whl/torch_stable.html",
        "--find-links https://example.com/wheels",
        "--extra-index-url=https://pypi.example.com/simple",
        "-i https://pypi.org/simple",
        "--index-url https://${USER_NAME}:${PASSWORD}@pypi.example.com/simple",
        "--no-index",
        "--pre",
        "--prefer-binary",
        "--only-binary :all:",
        "--no-binary=numpy",
        "--trusted-host pypi.example.com",
        "-e git+https://github.com/org/repo.git#egg=repo",
        "numpy  # trailing comment",
        "   # indented comment",
        "",
        "pkg @ file:///opt/wheels/pkg.whl",
    ],
)
def test_lines_pip_accepts_give_no_finding(tmp_path: Path, line: str) -> None:
    assert _check(tmp_path, line + "\n") == []


def test_empty_file_and_no_trailing_newline_and_crlf(tmp_path: Path) -> None:
    assert _check(tmp_path, "") == []
    assert _check(tmp_path, "numpy\r\nscipy") == []
    assert _check(tmp_path, "\ufeffnumpy\n") == []


def test_continuation_lines_are_joined(tmp_path: Path) -> None:
    text = "numpy==1.26.4 \\\n    --hash=sha256:00 \\\n    --hash=sha256:11\nscipy==1 pandas\n"
    assert _check(tmp_path, text) == [("HUB301", 4, 10)]


def test_local_files_are_looked_up_in_the_folder(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("numpy\n")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "x-1.0-py3-none-any.whl").write_bytes(b"")
    text = (
        "-r base.txt\n-rmissing.txt\n--constraint=gone.txt\n./wheels/x-1.0-py3-none-any.whl\n"
        "./wheels/y-1.0-py3-none-any.whl\n-e ./nowhere\n-e .\n"
    )
    assert _check(tmp_path, text) == [
        ("HUB303", 2, None),
        ("HUB303", 3, None),
        ("HUB303", 5, None),
        ("HUB303", 6, None),
    ]


@pytest.mark.parametrize(
    ("line", "code", "col"),
    [
        ("numpy>>1", "HUB301", 6),
        ("[extra]", "HUB301", 1),
        ("numpy; python_version <", "HUB301", 24),
        ("name @", "HUB301", 7),
        ("--frobnicate", "HUB302", None),
        ("--hash=sha256:00", "HUB302", None),
        ("numpy --frob=1", "HUB302", None),
        ("-r", "HUB305", None),
        ("--extra-index-url", "HUB305", None),
    ],
)
def test_bad_lines(tmp_path: Path, line: str, code: str, col: int | None) -> None:
    assert _check(tmp_path, "ok-package\n" + line + "\n") == [(code, 2, col)]


def test_not_utf8(tmp_path: Path) -> None:
    assert _check(tmp_path, b"numpy\n\xff\n") == [("HUB304", 2, None)]


SECRETS = [
    ("git+https://deploy:s3cr3t-pass@gitlab.example.com/org/x.git", "HUB701", 13),
    ("x @ https://user:pa55word@pypi.example.com/x-1.0.tar.gz", "HUB701", 13),
    ("--extra-index-url https://user:pa55word@pypi.example.com/simple", "HUB701", 27),
    ("git+https://0123456789abcdef0123456789abcdef01234567@github.com/o/r", "HUB701", 13),
    ("git+https://ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8" + "@github.com/o/r", "HUB702", 13),
    ("git+https://x-access-token:github_pat_" + "1" * 30 + "@github.com/o/r", "HUB702", 28),
    ("# glpat-" + "a" * 20, "HUB702", 3),
]


@pytest.mark.parametrize(("line", "code", "col"), SECRETS)
def test_secrets_are_found_by_line_and_never_shown(
    tmp_path: Path, line: str, code: str, col: int
) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\n" + line + "\n")
    findings = check_requirements(tmp_path).findings
    assert [(f.code, f.line, f.col) for f in findings] == [(code, 2, col)]
    shown = " ".join(f"{f.message} {f.hint}" for f in findings)
    for secret in ("s3cr3t-pass", "pa55word", "0123456789abcdef", "A1b2C3d4", "1111", "aaaa"):
        assert secret not in shown


def test_revision_after_at_is_not_a_login(tmp_path: Path) -> None:
    text = "x @ git+https://github.com/org/x.git@a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2\n"
    assert _check(tmp_path, text) == []


def test_missing_file_is_fine(tmp_path: Path) -> None:
    result = check_requirements(tmp_path)
    assert (result.findings, result.refs, result.exists) == ([], [], False)


simple_tokens = st.sampled_from(
    [
        "numpy",
        "a",
        "A.b-c_d",
        "[",
        "]",
        "x",
        ",",
        " ",
        "==",
        "!=",
        ">=",
        "<=",
        ">",
        "<",
        "~=",
        "===",
        "1",
        "0",
        ".",
        "*",
        "a1",
        "b2",
        "rc3",
        ".post1",
        ".dev2",
        "+cpu",
        "+",
        "-",
        "_",
        "v",
        "!",
        ";",
        "@",
        "(",
        ")",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(simple_tokens, min_size=1, max_size=14).map("".join))
def test_fast_path_accepts_only_what_packaging_accepts(line: str) -> None:
    if is_simple_requirement(line):
        Requirement(line)  # must not raise


@pytest.mark.parametrize(
    "line",
    [
        "numpy",
        "numpy>=1.21,<2",
        "pillow[avif, webp] >= 10.0.1",
        "torch==2.1.0+cpu",
        "x==1.0.*",
        "x~=1.4.2",
        "x!=2.0rc1",
        "x>=1.0a1.post2.dev3",
    ],
)
def test_fast_path_covers_the_common_lines(line: str) -> None:
    assert is_simple_requirement(line)
    Requirement(line)


@pytest.mark.parametrize("line", ["x>=1.0.*", "x~=1", "x>=1.0+cpu", "x===1", "x (>=1)"])
def test_fast_path_leaves_the_rest_to_packaging(line: str) -> None:
    assert not is_simple_requirement(line)


def test_paths_outside_the_folder_are_reported(tmp_path: Path) -> None:
    text = "-r /etc/hosts\n-c ../constraints.txt\n-e ~/lib\n./wheels/../../x.whl\n-r a\x00b\n"
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    findings = check_requirements(tmp_path).findings
    assert [(f.code, f.line) for f in findings] == [("HUB303", n) for n in range(1, 6)]
    assert all("outside the executor folder" in f.message for f in findings[:4])


def test_credentials_in_a_malformed_url_are_still_found(tmp_path: Path) -> None:
    assert _check(tmp_path, "https://user:pw-secret@[::1/simple\n") == [("HUB701", 1, 9)]
