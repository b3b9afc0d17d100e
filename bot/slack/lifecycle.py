"""Whether the app is draining: from the moment the server begins its graceful shutdown (SIGTERM; see
server.py) or the app its lifespan's shutdown. `/readyz` answers 503 from then on.

The app's lifespan hands its `Lifecycle` to the server as lifespan state (`LIFECYCLE_KEY`), which uvicorn
shares with every connection's protocol: that is how the protocol reaches it."""

from __future__ import annotations

LIFECYCLE_KEY = "lifecycle"


class Lifecycle:
    def __init__(self) -> None:
        self.draining = False

    def begin_draining(self) -> None:
        self.draining = True
