"""A loopback TCP proxy whose behaviour a test switches: refuse, stay silent, or forward."""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum

from pgconsole.throwaway.cluster import free_port


class ProxyMode(StrEnum):
    """What a new connection to the proxy meets."""

    REFUSE = "refuse"  # nothing listens: the kernel refuses the connection
    SILENT = "silent"  # accepted, then never a byte back: a host that does not answer
    FORWARD = "forward"  # piped to the real server


class TcpProxy:
    """Listens on `host:port` (a free loopback port) and behaves as `mode` says."""

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._closed_servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.mode = ProxyMode.REFUSE

    async def set_mode(self, mode: ProxyMode) -> None:
        """Switch behaviour for the connections that arrive from now on."""
        self.mode = mode
        if mode is ProxyMode.REFUSE:
            self._stop_listening()
        elif self._server is None:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)

    async def close(self) -> None:
        """Stop listening and drop every connection.

        The held connections are closed before `wait_closed()`: since Python 3.12.1 it waits for
        every connection the server accepted, so waiting first hangs on a SILENT one for good.
        """
        self._stop_listening()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._closed_servers:
            await server.wait_closed()
        self._closed_servers.clear()

    def _stop_listening(self) -> None:
        """Refuse new connections; the ones already accepted go on until `close()`."""
        if self._server is not None:
            self._server.close()
            self._closed_servers.append(self._server)
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode is ProxyMode.SILENT:
                await asyncio.sleep(3600)
                return
            up_reader, up_writer = await asyncio.open_connection(*self._target)
            self._writers.add(up_writer)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(OSError):
            writer.close()
