"""Keeping build-env values out of the built image's metadata.

Build envs reach a classic Engine build as build args. A ``RUN`` step that has an ``ARG`` in
scope makes the Engine record the step as ``|2 KEY=value OTHER=x /bin/sh -c …`` in the image
history, so ``docker history`` would show the value. After such a build hubci rewrites the
image's metadata: it saves the image, replaces ``KEY=value`` by ``KEY=***`` in the config and
legacy layer JSON (the layers themselves are untouched, so the filesystem is identical), loads
it back and drops the original. A value the Dockerfile bakes into the image configuration itself
(``ENV X=$KEY``, ``LABEL x=$KEY``) cannot be redacted without changing the image: that is
reported as a leak and the build fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubci.output.redact import MIN_MASKED, Redactor


@dataclass(frozen=True)
class Leak:
    key: str
    where: str  # e.g. "label org.x", "Env", "history"

    def describe(self) -> str:
        return f"build env {self.key} is baked into the image {self.where}"


def _walk_strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, f"{path} {k}".strip())
    elif isinstance(node, list):
        for item in node:
            yield from _walk_strings(item, path)


def redact_text(text: str, values: Mapping[str, str]) -> str:
    """``KEY=value`` -> ``KEY=***`` for each build env, then any findable value -> ``***``
    (the output layer's redaction rules, for this build's values only)."""
    return Redactor(values.values(), pairs=values.items())(text)


def _contains(text: str, key: str, value: str) -> bool:
    return bool(value) and (
        f"{key}={value}" in text or (len(value.strip()) >= MIN_MASKED and value.strip() in text)
    )


def config_leaks(attrs: Mapping[str, Any], values: Mapping[str, str]) -> list[Leak]:
    """Values the image configuration (env, labels, entrypoint, …) carries: not redactable."""
    config = attrs.get("Config") or {}
    leaks: list[Leak] = []
    for where, text in _walk_strings(config, ""):
        for key, value in values.items():
            if _contains(text, key, value):
                label = where.removeprefix("Labels ")
                shown = f"label {label}" if where.startswith("Labels ") else f"config {where}"
                leak = Leak(key, shown)
                if leak not in leaks:
                    leaks.append(leak)
    return leaks


def history_leaks(history: Sequence[Mapping[str, Any]], values: Mapping[str, str]) -> list[str]:
    """The keys whose values appear in ``docker history`` (fixable by :func:`rewrite_image`)."""
    found: list[str] = []
    for entry in history:
        text = f"{entry.get('CreatedBy') or ''} {entry.get('Comment') or ''}"
        for key, value in values.items():
            if key not in found and _contains(text, key, value):
                found.append(key)
    return found


def _redact_json(raw: bytes, values: Mapping[str, str]) -> bytes:
    """Redact the build-step records only: ``history[].created_by/comment`` and the ``Cmd`` of
    ``container_config`` (legacy layer JSON). Digests, dates and the runtime config are left
    alone, so a value that happens to look like part of a digest cannot corrupt the image."""
    document = json.loads(raw)
    if isinstance(document, dict):
        for entry in document.get("history") or []:
            if isinstance(entry, dict):
                for key in ("created_by", "comment"):
                    if isinstance(entry.get(key), str):
                        entry[key] = redact_text(entry[key], values)
        for key in ("container_config", "ContainerConfig"):
            config = document.get(key)
            if isinstance(config, dict) and isinstance(config.get("Cmd"), list):
                config["Cmd"] = [
                    redact_text(c, values) if isinstance(c, str) else c for c in config["Cmd"]
                ]
    return json.dumps(document, separators=(",", ":")).encode()


def rewrite_archive(src: Path, dest: Path, values: Mapping[str, str], repo_tag: str) -> None:
    """Copy a ``docker save`` archive, redacting its metadata JSON; layers are copied as is.

    The config file is renamed after its new digest (the new image id) and ``manifest.json``
    follows it, so the Engine loads a consistent image.
    """
    with tarfile.open(src) as tin:
        members = tin.getmembers()
        manifest = json.loads(_read(tin, "manifest.json"))
        if len(manifest) != 1:
            msg = f"expected one image in the saved archive, found {len(manifest)}"
            raise ValueError(msg)
        old_config = manifest[0]["Config"]
        new_config_bytes = _redact_json(_read(tin, old_config), values)
        new_config = f"{hashlib.sha256(new_config_bytes).hexdigest()}.json"
        manifest[0]["Config"] = new_config
        manifest[0]["RepoTags"] = [repo_tag]
        with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tout:
            for member in members:
                if member.name in _DROPPED:
                    continue
                if member.name == old_config:
                    _add_bytes(tout, member, new_config, new_config_bytes)
                elif member.isfile() and member.name.endswith("/json"):
                    _add_bytes(
                        tout, member, member.name, _redact_json(_read(tin, member.name), values)
                    )
                elif member.isfile():
                    fileobj = tin.extractfile(member)
                    tout.addfile(member, fileobj)
                else:
                    tout.addfile(member)
            _add_bytes(tout, None, "manifest.json", json.dumps(manifest).encode())


#: Rewritten (manifest) or dropped so the Engine loads through ``manifest.json`` alone: the OCI
#: index would still point at the original config.
_DROPPED = frozenset({"manifest.json", "repositories", "index.json", "oci-layout"})


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    fileobj = tar.extractfile(name)
    if fileobj is None:
        msg = f"{name} is missing from the saved image archive"
        raise ValueError(msg)
    return fileobj.read()


def _add_bytes(tar: tarfile.TarFile, like: tarfile.TarInfo | None, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = like.mode if like is not None else 0o644
    info.mtime = like.mtime if like is not None else 0
    tar.addfile(info, io.BytesIO(data))


def rewrite_image(client: Any, image_id: str, values: Mapping[str, str], repo_tag: str) -> str:
    """Replace the image by one whose metadata has the values redacted; return the new id.

    Only the new image carries ``repo_tag``; the original image is removed.
    """
    workdir = Path(tempfile.mkdtemp(prefix="hubci-scrub-"))
    try:
        saved = workdir / "saved.tar"
        with saved.open("wb") as out:
            for chunk in client.images.get(image_id).save(named=False):
                out.write(chunk)
        fixed = workdir / "fixed.tar"
        rewrite_archive(saved, fixed, values, repo_tag)
        saved.unlink()
        with fixed.open("rb") as data:
            loaded = client.images.load(data)
        if not loaded:
            msg = "the Engine loaded no image from the redacted archive"
            raise RuntimeError(msg)
        new_id: str = loaded[0].id
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if new_id != image_id:
        client.images.remove(image_id, force=True)
    return new_id
