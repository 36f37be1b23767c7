"""The push form: official field names, order and values; a streamed body that parses back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from requests_toolbelt.multipart.decoder import MultipartDecoder

from hubci.hub.form import PushForm, StreamedBody, field_names, text_fields
from hubci.secret import Secret


def _form(tmp_path: Path, **kw: object) -> PushForm:
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    md5 = hashlib.md5(bundle.read_bytes()).hexdigest()
    args: dict[str, object] = {
        "name": "Hello",
        "md5": md5,
        "bundle_path": bundle,
        "bundle_size": bundle.stat().st_size,
    }
    args.update(kw)
    return PushForm(**args)  # type: ignore[arg-type]


def test_minimal_push_fields(tmp_path: Path) -> None:
    form = _form(tmp_path)
    assert text_fields(form) == [
        ("public", "False"),
        ("private", "False"),
        ("md5sum", form.md5),
        ("id", "Hello"),
    ]
    assert form.endpoint == "executor.push"


def test_every_field_in_the_official_order(tmp_path: Path) -> None:
    form = _form(
        tmp_path,
        public=True,
        verbose=True,
        no_cache=True,
        tags=("v1", "latest"),
        protected_tags=("v1.0.0",),
        dockerfile="Dockerfile.gpu",
        build_env={"A": Secret("x=y"), "B": Secret("")},
        platforms=("linux/amd64", "linux/arm64"),
        secret=Secret("s3cr3t"),
    )
    assert field_names(form) == [
        "public", "private", "md5sum", "verbose", "buildWithNoCache", "tags", "immutableTags",
        "dockerfile", "buildEnv", "platform", "id", "secret", "file",
    ]  # fmt: skip
    values = dict(text_fields(form))
    assert values["public"] == "True"
    assert values["tags"] == "v1,latest"
    assert values["immutableTags"] == "v1.0.0"
    assert json.loads(values["buildEnv"]) == {"A": "x=y", "B": ""}
    assert values["platform"] == "linux/amd64,linux/arm64"
    assert form.endpoint == "executor.update"


def test_streamed_body_parses_back_with_the_file_part(tmp_path: Path) -> None:
    form = _form(tmp_path, tags=("v1",))
    seen: list[tuple[int, int]] = []
    body = StreamedBody(form, lambda sent, total: seen.append((sent, total)))
    data = b""
    while chunk := body.monitor.read(1000):
        data += chunk
    body.close()
    assert len(data) == body.total
    assert body.complete
    assert seen[-1] == (body.total, body.total)
    parts = MultipartDecoder(data, body.content_type).parts
    names = []
    for part in parts:
        disposition = part.headers[b"Content-Disposition"].decode()
        names.append(disposition.split('name="')[1].split('"')[0])
    assert names == field_names(form)
    file_part = parts[-1]
    assert 'filename="filename"' in file_part.headers[b"Content-Disposition"].decode()
    assert file_part.headers[b"Content-Type"] == b"application/octet-stream"
    assert file_part.content == form.bundle_path.read_bytes()
