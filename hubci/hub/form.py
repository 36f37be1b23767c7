"""The ``executor.push``/``executor.update`` multipart form, field for field.

docs/protocol.md#the-upload-form describes it. The order is the official client's: public,
private, md5sum, verbose?, buildWithNoCache?, tags?, immutableTags?, dockerfile?, buildEnv?,
platform?, id, secret (update only), file. Booleans are the words ``True``/``False``. The bundle
is streamed from its file by requests-toolbelt's MultipartEncoder, so memory stays flat whatever
its size.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hubci.secret import Secret

#: The part name and literal file name the official client sends.
FILE_FIELD = "file"
FILE_NAME = "filename"
FILE_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class PushForm:
    """Everything sent with an upload except the bundle bytes."""

    name: str  # the executor name (push) or NAME_OR_ID (update)
    md5: str
    bundle_path: Path
    bundle_size: int
    public: bool = False
    private: bool = False
    verbose: bool = False
    no_cache: bool = False
    tags: tuple[str, ...] = ()
    protected_tags: tuple[str, ...] = ()
    dockerfile: str | None = None
    build_env: Mapping[str, Secret] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()
    secret: Secret | None = None  # set only for executor.update

    @property
    def endpoint(self) -> str:
        return "executor.update" if self.secret is not None else "executor.push"


def _word(value: bool) -> str:
    return "True" if value else "False"


def text_fields(form: PushForm) -> list[tuple[str, str]]:
    """The form's text fields in wire order. Values of secrets are revealed here, only here."""
    fields: list[tuple[str, str]] = [
        ("public", _word(form.public)),
        ("private", _word(form.private)),
        ("md5sum", form.md5),
    ]
    if form.verbose:
        fields.append(("verbose", "True"))
    if form.no_cache:
        fields.append(("buildWithNoCache", "True"))
    if form.tags:
        fields.append(("tags", ",".join(form.tags)))
    if form.protected_tags:
        fields.append(("immutableTags", ",".join(form.protected_tags)))
    if form.dockerfile:
        fields.append(("dockerfile", form.dockerfile))
    if form.build_env:
        env = {key: value.reveal() for key, value in form.build_env.items()}
        fields.append(("buildEnv", json.dumps(env)))
    if form.platforms:
        fields.append(("platform", ",".join(form.platforms)))
    fields.append(("id", form.name))
    if form.secret is not None:
        fields.append(("secret", form.secret.reveal()))
    return fields


def field_names(form: PushForm) -> list[str]:
    """The field names in wire order, the file part last (safe to print)."""
    return [name for name, _ in text_fields(form)] + [FILE_FIELD]


class StreamedBody:
    """A MultipartEncoderMonitor over the form, reading the bundle from disk as it is sent.

    ``bytes_read`` tells how much of the body left this process, which decides whether a failed
    upload may be repeated (see :mod:`hubci.hub.client`).
    """

    def __init__(self, form: PushForm, progress: Callable[[int, int], None] | None) -> None:
        from requests_toolbelt.multipart.encoder import (  # lazy: heavy import
            MultipartEncoder,
            MultipartEncoderMonitor,
        )

        self._file: IO[bytes] = open(form.bundle_path, "rb")  # noqa: SIM115 - closed in close()
        parts: list[tuple[str, Any]] = list(text_fields(form))
        parts.append((FILE_FIELD, (FILE_NAME, self._file, FILE_CONTENT_TYPE)))
        encoder = MultipartEncoder(fields=parts)
        self.total: int = encoder.len

        def on_read(monitor: Any) -> None:
            if progress is not None:
                progress(monitor.bytes_read, self.total)

        self.monitor = MultipartEncoderMonitor(encoder, on_read)

    @property
    def content_type(self) -> str:
        return str(self.monitor.content_type)

    @property
    def bytes_read(self) -> int:
        return int(self.monitor.bytes_read)

    @property
    def complete(self) -> bool:
        return self.bytes_read >= self.total

    def close(self) -> None:
        self._file.close()
