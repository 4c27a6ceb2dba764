"""Drive Debian's headless Chromium over the DevTools protocol on a pipe (stdlib only):
load a page at a given viewport width (390 px too: a plain ``--window-size`` stops at 500),
evaluate JavaScript in it, record what the page requests, take screenshots, print to PDF.

``--remote-debugging-pipe``: Chromium reads NUL-terminated JSON commands on fd 3 and writes
answers and events on fd 4. Chromium runs offline: every host name resolves to nothing and
the proxy is a dead loopback port.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=127.0.0.1:9", "--hide-scrollbars", "--remote-debugging-pipe"]

#: Elements whose box reaches past the viewport's right edge, except inside a scroll
#: container (the matrix scrolls in its own box). Opens every <details> first when asked.
OVERFLOW_JS = """
(function (openAll) {
  if (openAll) document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  var W = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll('body *').forEach(function (el) {
    var box = el.parentElement && el.parentElement.closest('.mscroll');
    if (box) return;
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > W + 1) wide.push(el.tagName + '.' + el.getAttribute('class') + ' right=' + Math.round(r.right));
  });
  return {width: W, scrollWidth: document.documentElement.scrollWidth,
          height: document.documentElement.scrollHeight, wide: wide.slice(0, 10), nwide: wide.length};
})(%s)
"""


def chromium() -> str:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (CI installs it)")
    return str(CHROMIUM)


class Browser:
    """One headless Chromium and one page (tab). Use as a context manager."""

    def __init__(self, profile: Path, timeout: float = 60.0):
        self.timeout = timeout
        cmd_r, cmd_w = os.pipe()
        ans_r, ans_w = os.pipe()

        def child_fds() -> None:
            os.dup2(cmd_r, 3)
            os.dup2(ans_w, 4)

        self.proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     pass_fds=(3, 4), preexec_fn=child_fds,  # noqa: PLW1509 - fds 3/4 by protocol
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "HOME": str(profile)})
        os.close(cmd_r)
        os.close(ans_w)
        self._out = os.fdopen(cmd_w, "wb", buffering=0)
        self._in = os.fdopen(ans_r, "rb", buffering=0)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def __enter__(self) -> Browser:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._send("Browser.close", {}, None)
            self.proc.wait(10)
        except Exception:  # noqa: BLE001 - closing a dead browser
            self.proc.kill()
            self.proc.wait(10)

    def _send(self, method: str, params: dict, session: str | None) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self._out.write(json.dumps(msg).encode() + b"\0")
        return self._id

    def _next(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = self._in.read(1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, page: bool = False) -> dict[str, Any]:
        number = self._send(method, params or {}, self.session if page else None)
        while True:
            msg = self._next()
            if msg.get("id") == number:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    def wait_event(self, method: str) -> dict[str, Any]:
        for i, msg in enumerate(self.events):
            if msg.get("method") == method:
                return self.events.pop(i)
        while True:
            msg = self._next()
            if msg.get("method") == method:
                return msg
            self.events.append(msg)

    # -- page ---------------------------------------------------------------------------
    def open(self, page: Path, width: int, scripts: bool = True) -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}, page=True)
        self.call("Emulation.setScriptExecutionDisabled", {"value": not scripts}, page=True)
        self.call("Network.enable", {}, page=True)
        self.call("Page.enable", {}, page=True)
        self.events.clear()
        self.call("Page.navigate", {"url": page.resolve().as_uri()}, page=True)
        self.wait_event("Page.loadEventFired")

    def fetched(self) -> list[str]:
        """URLs the page asked for besides itself (file: and data: excluded)."""
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(("file:", "data:"))]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, page=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def overflow(self, open_all: bool = False) -> dict[str, Any]:
        return self.evaluate(OVERFLOW_JS % ("true" if open_all else "false"))

    def screenshot(self, path: Path, height: int = 2400) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": {
            "x": 0, "y": 0, "width": self.evaluate("document.documentElement.clientWidth"),
            "height": height, "scale": 1}, "captureBeyondViewport": True}, page=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def print_pdf(self, path: Path) -> Path:
        """A4, the page's own print stylesheet, no header or footer."""
        data = self.call("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": True,
                                             "printBackground": True, "displayHeaderFooter": False},
                         page=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


def pdf_pages_and_text(pdf: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    return len(reader.pages), "\n".join(p.extract_text() or "" for p in reader.pages)
