"""A real threaded HTTP server on 127.0.0.1 for download tests.

Routes serve fixture bytes with scripted behaviour: fail N times with a status before
succeeding, wait past the client's timeout, cut the body short while announcing its full
length, or omit Content-Length. Every request is logged so tests can count attempts.

Use the ``http_server`` fixture (import it into a test module) or ``FixtureServer`` as a
context manager.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Route:
    """What one path answers; counters are per route."""

    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"
    fail_first: int = 0
    fail_status: int = 500
    delay: float = 0.0
    delay_first: int | None = None
    truncate_to: int | None = None
    send_length: bool = True
    hits: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.log.append(self.path)
        route = self.server.routes.get(self.path) or self.server.routes.get(self.path.split("?")[0])
        try:
            if route is None:
                self._answer(404, b"not found", "text/plain")
                return
            route.hits += 1
            delayed = route.delay_first is None or route.hits <= route.delay_first
            if route.delay and delayed and self.server.stopping.wait(route.delay):
                return
            if route.hits <= route.fail_first:
                self._answer(route.fail_status, b"scripted failure", "text/plain")
                return
            self._answer(route.status, route.body, route.content_type, route.truncate_to,
                         route.send_length)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests); nothing to answer

    def _answer(self, status: int, body: bytes, content_type: str,
                truncate_to: int | None = None, send_length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if send_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if truncate_to is None else body[:truncate_to])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.log: list[str] = []
        self.stopping = threading.Event()


class FixtureServer:
    """Serve scripted routes on 127.0.0.1 at a random free port."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>`` without a trailing slash."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def log(self) -> list[str]:
        """Paths (with query) of every request received, in order."""
        return self._server.log

    def add(self, path: str, body: bytes | str, **behaviour) -> Route:
        """Serve ``body`` at ``path`` (may include ``?query``); behaviour as in :class:`Route`."""
        route = Route(body=body.encode() if isinstance(body, str) else body, **behaviour)
        self._server.routes[path] = route
        return route

    def add_file(self, path: str, file: Path, *, gunzip: bool = False,
                 rewrite: dict[str, str] | None = None, **behaviour) -> Route:
        """Serve a fixture file; ``gunzip`` serves a .gz file's content, ``rewrite`` replaces
        text (e.g. absolute ``next`` links of recorded API pages) with links to this server."""
        data = file.read_bytes()
        if gunzip:
            data = gzip.decompress(data)
        for old, new in (rewrite or {}).items():
            data = data.replace(old.encode(), new.encode())
        return self.add(path, data, **behaviour)


@pytest.fixture
def http_server():
    """A running :class:`FixtureServer`, stopped after the test."""
    with FixtureServer() as server:
        yield server
