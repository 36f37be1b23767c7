"""bundle_findings: limits, pre-1980 mtimes, secret-looking files (never quoting them)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hubci.bundle import bundle_findings, collect_files
from hubci.findings import Finding
from hubci.output.sizes import human_size

MakeTree = Callable[[dict[str, str | bytes]], Path]
BASE: dict[str, str | bytes] = {".gitignore": "", "config.yml": "jtype: E\n", "executor.py": "x\n"}
BIG = 10**9
PEM_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAzSECRETSECRETSECRET\n"
    "-----END RSA PRIVATE KEY-----\n"
)
SECRET_MARK = "SECRETSECRET"


def findings(folder: Path, *, max_bytes: int = BIG, max_files: int = 10_000) -> list[Finding]:
    return bundle_findings(folder, max_bytes=max_bytes, max_files=max_files)


def summary(found: list[Finding]) -> list[tuple[str, str | None, int | None]]:
    return [(f.code, f.file, f.line) for f in found]


def test_clean_folder_has_no_findings(make_tree: MakeTree) -> None:
    assert findings(make_tree(BASE)) == []


def test_too_big_names_the_biggest_files(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "model.bin": b"\0" * 5000, "data/b.bin": b"\0" * 3000, "c": "c"})
    [found] = findings(folder, max_bytes=4096)
    assert (found.code, found.category, found.severity.value) == (
        "HUB610",
        "bundle-safety",
        "error",
    )
    assert "over the limit of 4.0 KiB" in found.message
    assert found.hint is not None
    assert found.hint.startswith("biggest files: model.bin (4.9 KiB), data/b.bin (2.9 KiB), ")


def test_at_the_limit_is_fine(make_tree: MakeTree) -> None:
    folder = make_tree(BASE)
    files = collect_files(folder)
    assert bundle_findings(folder, max_bytes=files.content_bytes, max_files=3, fileset=files) == []


def test_too_many_files_names_the_fullest_folders(make_tree: MakeTree) -> None:
    tree = dict(BASE)
    tree.update({f"data/{i}.txt": "" for i in range(6)})
    tree.update({f"more/{i}.txt": "" for i in range(2)})
    [found] = findings(make_tree(tree), max_files=5)
    assert found.code == "HUB611"
    assert "11 files, over the limit of 5" in found.message
    assert found.hint is not None
    assert found.hint.startswith("fullest folders: data/ (6 files), ./ (3 files), more/ (2 files)")


def test_a_folder_with_one_file_is_named_in_the_singular(make_tree: MakeTree) -> None:
    [found] = findings(make_tree({**BASE, "one/0.txt": ""}), max_files=3)
    assert found.hint is not None
    assert found.hint.startswith("fullest folders: ./ (3 files), one/ (1 file);")


def test_pre_1980_mtime_is_a_warning_per_file(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, "old.py": "", "older.py": ""})
    os.utime(folder / "old.py", (0, 0))
    os.utime(folder / "older.py", (-86400 * 365, -86400 * 365))
    found = findings(folder)
    assert [(f.code, f.file, f.severity.value) for f in found] == [
        ("HUB612", "old.py", "warning"),
        ("HUB612", "older.py", "warning"),
    ]


def test_many_pre_1980_mtimes_are_summed_up(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, **{f"f{i}.py": "" for i in range(8)}})
    for i in range(8):
        os.utime(folder / f"f{i}.py", (100, 100))
    [found] = findings(folder)
    assert found.code == "HUB612"
    assert found.file is None
    assert found.message == (
        "8 files have a modification time before 1980, which a zip file cannot store "
        "(e.g. f0.py, f1.py, f2.py)"
    )


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".env": "TOKEN=x"}, [("HUB801", ".env", 1)]),  # the line that sets a value
        ({"conf/.env.production": "A=1"}, [("HUB801", "conf/.env.production", 1)]),
        ({".env.example": "A=", ".env.sample": "A=", ".env.template": "A="}, []),
        ({"server.pem": PEM_KEY}, [("HUB802", "server.pem", 1)]),
        ({"tls/site.key": "# key\n\n" + PEM_KEY}, [("HUB802", "tls/site.key", 3)]),
        (
            {
                "k.pem": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"
                "-----END OPENSSH PRIVATE KEY-----"
            },
            [("HUB802", "k.pem", 1)],
        ),
        ({"k.key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"}, [("HUB802", "k.key", 1)]),
        ({"ca.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}, []),
        ({"api.key": "not a pem at all"}, []),
        (
            {"id_rsa": "x", "keys/id_ed25519": "x"},
            [("HUB803", "id_rsa", None), ("HUB803", "keys/id_ed25519", None)],
        ),
        (
            {"id_ecdsa_work": "x", "id_dsa.old": "x"},
            [("HUB803", "id_dsa.old", None), ("HUB803", "id_ecdsa_work", None)],
        ),
        (
            {"id_rsa.pub": "ssh-rsa AAAA", "id_ed25519.pub": "ssh-ed25519 AAAA", "id_rsaish": "x"},
            [],
        ),
        ({".npmrc": "registry=https://r\n//r/:_authToken=npm_abc\n"}, [("HUB804", ".npmrc", 2)]),
        ({".npmrc": "registry=https://registry.npmjs.org/\n"}, []),
        (
            {".pypirc": "[pypi]\nusername = __token__\npassword = pypi-AgEI\n"},
            [("HUB804", ".pypirc", 3)],
        ),
        ({".pypirc": "[distutils]\nindex-servers = pypi\n[pypi]\nusername: me\n"}, []),
        ({"credentials.json": "{}"}, [("HUB805", "credentials.json", None)]),
        ({".netrc": "machine h login u password p\n"}, [("HUB806", ".netrc", None)]),
        (
            {".docker/config.json": json.dumps({"auths": {"r.io": {"auth": "dTpw"}}}, indent=1)},
            [("HUB807", ".docker/config.json", 2)],
        ),
        ({"x/.docker/config.json": '{"auths": {"r.io": {}}, "credsStore": "desktop"}'}, []),
        ({".docker/config.json": "not json"}, []),
        ({"config.json": '{"auths": {"r.io": {"auth": "dTpw"}}}'}, []),
    ],
)
def test_secret_looking_files(
    make_tree: MakeTree, files: dict[str, str], expected: list[tuple[str, str, int | None]]
) -> None:
    found = findings(make_tree({**BASE, **files}))
    assert summary(found) == expected
    for f in found:
        assert (f.category, f.severity.value) == ("secret", "error")
        assert f.hint is not None
        assert ".gitignore" in f.hint


def test_secret_findings_never_quote_the_secret(make_tree: MakeTree) -> None:
    folder = make_tree(
        {
            **BASE,
            "server.pem": PEM_KEY,
            ".npmrc": f"//r/:_authToken={SECRET_MARK}\n",
            ".pypirc": f"[pypi]\npassword = {SECRET_MARK}\n",
            ".docker/config.json": json.dumps({"auths": {"r": {"auth": SECRET_MARK}}}),
        }
    )
    found = findings(folder)
    assert len(found) == 4
    for f in found:
        assert SECRET_MARK not in json.dumps(f.to_json())


def test_ignored_secret_files_are_not_reported(make_tree: MakeTree) -> None:
    folder = make_tree({**BASE, ".gitignore": ".env\n*.pem\n", ".env": "A=1", "k.pem": PEM_KEY})
    assert findings(folder) == []


def test_collection_problems_are_included(make_tree: MakeTree) -> None:
    folder = make_tree(BASE)
    (folder / "dangling").symlink_to("nowhere")
    assert summary(findings(folder)) == [("HUB602", "dangling", None)]


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5.0 MiB"),
        (3 * 1024**3, "3.0 GiB"),
    ],
)
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


def test_env_file_names_the_line_that_sets_a_value(make_tree: MakeTree) -> None:
    found = findings(make_tree({**BASE, ".env": "# settings\n\nexport TOKEN=ghp_x\nOTHER=1\n"}))
    assert summary(found) == [("HUB801", ".env", 3)]
