"""Runs an ASGI app with uvicorn on 127.0.0.1 and an ephemeral port, in a background thread.

uvicorn serves HTTP and websockets on one port, as Alpaca's paper host serves /v2 and /stream;
its sans-IO websockets protocol avoids the deprecated ``websockets.legacy`` server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

__all__ = ["ServerThread"]


class ServerThread:
    def __init__(self, app: Any, *, on_loop: Callable[[asyncio.AbstractEventLoop], None]) -> None:
        self._app = app
        self._on_loop = on_loop
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._failure: BaseException | None = None

    def __repr__(self) -> str:
        state = "running" if self._thread is not None and self._thread.is_alive() else "stopped"
        return f"ServerThread(port={self._port}, {state})"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    def start(self, *, timeout: float = 10.0) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the test process's logging configuration alone
            log_level="warning",
            http="h11",
            ws="websockets-sansio",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"fake-alpaca-{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake server stopped while starting") from self._failure
            if time.monotonic() > deadline:
                raise TimeoutError(f"the fake server did not start within {timeout} s")
            time.sleep(0.005)
        return self._port

    def stop(self, *, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the fake server did not stop within {timeout} s")

    def _run(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:  # kept for start() to report; the thread ends either way
            self._failure = exc
            raise

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._on_loop(asyncio.get_running_loop())
        await self._server.serve(sockets=[sock])
