"""A tiny misbehaving DICOMweb origin server on 127.0.0.1 (stdlib http.server in a thread).

STOW-RS (POST) is accepted with 200 and an empty JSON object, so the checks that read go on
to the misbehaving GETs; every GET misbehaves as ``mode`` says.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("html", "garbage-json", "wrong-type", "wrong-boundary", "huge", "silent", "trickle", "reset")


class Handler(BaseHTTPRequestHandler):
    server: HostileServer  # type: ignore[assignment]

    def log_message(self, *args: object) -> None:      # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._send(200, "application/dicom+json", b"{}")

    def do_OPTIONS(self) -> None:
        self._send(404, "text/plain", b"no")

    def do_GET(self) -> None:
        mode = self.server.mode
        if mode == "html":
            self._send(200, "text/html", b"<html><body>Login</body></html>")
        elif mode == "garbage-json":
            self._send(200, "application/dicom+json", b"\x00\xffnot json at all{[")
        elif mode == "wrong-type":
            self._send(200, "application/json", b"[]")
        elif mode == "wrong-boundary":
            body = b"--real\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--real--\r\n"
            self._send(200, 'multipart/related; type="application/dicom"; boundary=other', body)
        elif mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(1024):                    # bounded: 64 MiB at most
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif mode == "silent":
            time.sleep(self.server.delay)               # bounded sleep, then nothing
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(int(self.server.delay / 0.1)):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        elif mode == "reset":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str, delay: float = 3.0) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode, self.delay = mode, delay
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> HostileServer:  # noqa: PYI034 - Self needs Python 3.11
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)
