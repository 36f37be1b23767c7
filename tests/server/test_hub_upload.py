"""The upload reader: the bundle part goes to disk with its MD5, hashed and written off the event
loop in batches, whatever the chunking; a failed body leaves no file behind."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubci.server.upload import BATCH_BYTES, BadBody, BodyTooLarge, read_form

BOUNDARY = b"hubci-test-boundary"


def body(payload: bytes, *, end: bool = True) -> bytes:
    parts = [
        b"--"
        + BOUNDARY
        + b'\r\nContent-Disposition: form-data; name="md5sum"\r\n\r\n'
        + hashlib.md5(payload).hexdigest().encode()
        + b"\r\n",
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + payload + b"\r\n",
    ]
    return b"".join(parts) + (b"--" + BOUNDARY + b"--\r\n" if end else b"")


async def chunked(data: bytes, sizes: list[int]) -> AsyncIterator[bytes]:
    at = 0
    for size in sizes:
        if at >= len(data):
            return
        yield data[at : at + size]
        at += size
        await asyncio.sleep(0)
    if at < len(data):
        yield data[at:]


@pytest.mark.parametrize("size", [0, 1, BATCH_BYTES - 1, BATCH_BYTES, 3 * BATCH_BYTES + 7])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_bundle_lands_on_disk_with_its_md5(tmp_path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    payload = rng.randbytes(size)
    sizes = [rng.choice([1, 7, 4096, 65536, 300_000]) for _ in range(200)]
    form = asyncio.run(
        read_form(chunked(body(payload), sizes), BOUNDARY, tmp_path, max_bytes=10 * BATCH_BYTES)
    )
    assert form.file is not None
    assert form.file.read_bytes() == payload
    assert form.file_size == size
    assert form.file_md5 == hashlib.md5(payload).hexdigest()
    assert form.fields["md5sum"] == form.file_md5


def test_a_body_over_the_limit_or_cut_leaves_nothing(tmp_path: Path) -> None:
    payload = random.Random(3).randbytes(3 * BATCH_BYTES)
    with pytest.raises(BodyTooLarge):
        asyncio.run(
            read_form(
                chunked(body(payload), [65536] * 100), BOUNDARY, tmp_path, max_bytes=BATCH_BYTES * 2
            )
        )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(BadBody):
        asyncio.run(
            read_form(
                chunked(body(payload, end=False), [65536] * 100),
                BOUNDARY,
                tmp_path,
                max_bytes=10 * BATCH_BYTES,
            )
        )
    assert list(tmp_path.iterdir()) == []
