"""The local Executor Hub: an ASGI app that speaks the Hubble protocol (docs/protocol.md).

Public entry points: :func:`hubci.server.embedded.embedded_hub` (in-process, on a background
thread) and ``hubci hub serve`` (:mod:`hubci.commands.hub`). Everything here is imported lazily by
those two, so ``hubci validate`` never loads starlette or uvicorn.
"""

from __future__ import annotations

import logging

# A library's logger: silent unless the application (``hub serve``, a test) configures logging.
logging.getLogger("hubci.server").addHandler(logging.NullHandler())
