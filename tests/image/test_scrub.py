"""Keeping build-env values out of image metadata: detection and the archive rewrite (no Engine)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from hubci.image import scrub

VALUES = {"TOKEN": "s3cr3t-value", "SHORT": "x"}


def test_redact_text_masks_key_value_pairs_and_long_values() -> None:
    text = "|2 SHORT=x TOKEN=s3cr3t-value /bin/sh -c pip install -r requirements.txt"
    assert scrub.redact_text(text, VALUES) == (
        "|2 SHORT=*** TOKEN=*** /bin/sh -c pip install -r requirements.txt"
    )
    assert scrub.redact_text("echo s3cr3t-value", VALUES) == "echo ***"
    # a one-letter value is only masked in its KEY=value form, not everywhere
    assert scrub.redact_text("exit", VALUES) == "exit"


def test_history_leaks_finds_run_steps_with_args_in_scope() -> None:
    history: list[dict[str, str | None]] = [
        {"CreatedBy": '/bin/sh -c #(nop) ENTRYPOINT ["x"]', "Comment": ""},
        {"CreatedBy": "|1 TOKEN=s3cr3t-value /bin/sh -c pip install", "Comment": None},
        {"CreatedBy": "/bin/sh -c #(nop) ARG TOKEN", "Comment": ""},
    ]
    assert scrub.history_leaks(history, VALUES) == ["TOKEN"]
    assert scrub.history_leaks(history[:1] + history[2:], VALUES) == []


def test_config_leaks_name_the_label_or_field_never_the_value() -> None:
    attrs = {
        "Config": {
            "Env": ["PATH=/bin", "API=s3cr3t-value"],
            "Labels": {"org.example.token": "s3cr3t-value", "ok": "fine"},
            "Entrypoint": ["run"],
        }
    }
    leaks = scrub.config_leaks(attrs, VALUES)
    assert [leak.describe() for leak in leaks] == [
        "build env TOKEN is baked into the image config Env",
        "build env TOKEN is baked into the image label org.example.token",
    ]
    assert all("s3cr3t" not in leak.describe() for leak in leaks)
    assert scrub.config_leaks({"Config": {"Env": ["A=1"], "Labels": None}}, VALUES) == []


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _saved_archive(path: Path) -> tuple[str, bytes]:
    config = {
        "architecture": "amd64",
        "created": "2026-11-23T20:14:12.057584719Z",
        "config": {"Env": ["PATH=/bin"]},
        "history": [{"created_by": "|1 TOKEN=s3cr3t-value /bin/sh -c make"}],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "a" * 64]},
    }
    config_bytes = json.dumps(config).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    manifest = [{"Config": config_name, "RepoTags": ["x:1"], "Layers": ["layer/layer.tar"]}]
    with tarfile.open(path, "w") as tar:
        _add(tar, "layer/layer.tar", b"layer bytes stay as they are")
        _add(
            tar,
            "layer/json",
            json.dumps({"container_config": {"Cmd": ["TOKEN=s3cr3t-value"]}}).encode(),
        )
        _add(tar, config_name, config_bytes)
        _add(tar, "index.json", b'{"manifests": []}')
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return config_name, config_bytes


def test_rewrite_archive_redacts_metadata_and_renames_the_config(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.tar", tmp_path / "out.tar"
    old_name, _ = _saved_archive(src)
    scrub.rewrite_archive(src, dest, VALUES, "hubci/x:linux-amd64")
    with tarfile.open(dest) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        new_name = manifest[0]["Config"]
        config_bytes = tar.extractfile(new_name).read()  # type: ignore[union-attr]
        layer = tar.extractfile("layer/layer.tar").read()  # type: ignore[union-attr]
        legacy = tar.extractfile("layer/json").read()  # type: ignore[union-attr]
    assert old_name not in names
    assert "index.json" not in names
    assert new_name == f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    assert manifest[0]["RepoTags"] == ["hubci/x:linux-amd64"]
    assert manifest[0]["Layers"] == ["layer/layer.tar"]
    assert layer == b"layer bytes stay as they are"
    config = json.loads(config_bytes)
    assert config["history"][0]["created_by"] == "|1 TOKEN=*** /bin/sh -c make"
    assert config["rootfs"]["diff_ids"] == ["sha256:" + "a" * 64]
    for blob in (config_bytes, legacy, dest.read_bytes()):
        assert b"s3cr3t-value" not in blob


def test_rewrite_never_touches_digests_or_dates(tmp_path: Path) -> None:
    """A value that is also part of a digest or a date stays there: only step records change."""
    src, dest = tmp_path / "in.tar", tmp_path / "out.tar"
    _saved_archive(src)
    values = {"YEAR": "2026", "HEX": "aaaa", "TOKEN": "s3cr3t-value"}
    scrub.rewrite_archive(src, dest, values, "x:1")
    with tarfile.open(dest) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config = json.loads(tar.extractfile(manifest[0]["Config"]).read())  # type: ignore[union-attr]
    assert config["created"] == "2026-11-23T20:14:12.057584719Z"
    assert config["rootfs"]["diff_ids"] == ["sha256:" + "a" * 64]
    assert config["history"][0]["created_by"] == "|1 TOKEN=*** /bin/sh -c make"


def test_rewrite_archive_refuses_a_multi_image_archive(tmp_path: Path) -> None:
    src = tmp_path / "in.tar"
    with tarfile.open(src, "w") as tar:
        _add(tar, "manifest.json", b"[{}, {}]")
    with pytest.raises(ValueError, match="expected one image"):
        scrub.rewrite_archive(src, tmp_path / "out.tar", VALUES, "x:1")
