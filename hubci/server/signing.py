"""Short-lived signed download links, as object stores hand out for private files.

The official client downloads ``package.download`` with a plain GET and no token, so a private
executor's package would be out of its owner's reach. ``getPackage``, which only the owner (or
a holder of the executor's secret) gets an answer to, therefore returns the link with an expiry
and an HMAC-SHA256 of the path and that expiry, keyed with a secret only this Hub knows (a file
in its data folder, mode 0600, made on first start). The download route accepts such a link
until it expires; anyone else gets the same 404 as for an executor that does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

from hubci.server.config import write_private

#: How long a signed link works (the client downloads right after asking).
LIFETIME_SECONDS: Final = 600
#: in the Hub's data folder (hubci.server.config.DATA_DIR_ENTRIES lists it)
KEY_FILE: Final = "download-signing.key"


class UrlSigner:
    def __init__(
        self,
        key: bytes,
        *,
        lifetime: float = LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self.lifetime = lifetime
        self._clock = clock

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> UrlSigner:
        """The signer of the Hub whose state is in ``data_dir`` (its key made once)."""
        path = data_dir / KEY_FILE
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = secrets.token_bytes(32)
            write_private(path, key)
        if len(key) < 32:
            msg = f"{path} holds no usable key; delete it and restart the Hub"
            raise ValueError(msg)
        return cls(key)

    def _mac(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def query(self, path: str) -> str:
        """``expires=…&signature=…`` for ``path`` (the URL's path, without the query)."""
        expires = int(self._clock() + self.lifetime)
        return urlencode({"expires": expires, "signature": self._mac(path, expires)})

    def verify(self, path: str, expires: str | None, signature: str | None) -> bool:
        """Whether ``signature`` is this Hub's for ``path`` until ``expires``, not yet past.
        Anything malformed is simply not valid (never an error)."""
        if not expires or not signature or len(expires) > 12 or len(signature) != 64:
            return False
        if not (expires.isascii() and expires.isdigit()):
            return False
        if not all(c in "0123456789abcdef" for c in signature):
            return False
        when = int(expires)
        now = self._clock()
        if when < now or when > now + self.lifetime + 60:
            return False
        return hmac.compare_digest(self._mac(path, when).encode(), signature.encode())
