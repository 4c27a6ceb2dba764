"""One HTTP exchange with a DICOMweb origin server, as data (PS3.18 8: the RESTful services).

Built on httpx (explicit connect/read/write timeouts, streamed bodies) but keeps everything a
check must see: the status code, every header, the raw body. Nothing raises: a refused
connection, a timeout, a body larger than the cap or a server that trickles bytes past the
wall-clock limit become :attr:`WebResponse.error`.

Credentials (Basic or Bearer) come from the run's :class:`WebAccess` only, are sent in the
``Authorization`` header, and never appear in a URL, a finding or an observation.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

#: Key of the run's :class:`WebAccess` in ``RunContext.shared`` (set by the CLI).
ACCESS_KEY = "dicomweb.access"

#: Environment variables read when the CLI did not set the access (documented in README).
ENV_URL = "CONFORMANCE_DICOMWEB_URL"
ENV_TOKEN = "CONFORMANCE_DICOMWEB_TOKEN"
ENV_USER = "CONFORMANCE_DICOMWEB_USER"
ENV_PASSWORD = "CONFORMANCE_DICOMWEB_PASSWORD"

#: Characters left as they are in query values: RFC 3986 allows them in a query, and
#: PS3.18 8.3.4 gives them meaning (wildcards, UID lists, ranges, PN components). They are
#: reserved characters: RFC 3986 2.2 says their percent-encoded form is NOT equivalent, and
#: servers do treat "%2A" as a literal (Orthanc 1.10 does).
QUERY_SAFE = "*?,^-.:=/"


@dataclass(frozen=True)
class WebAccess:
    """How the harness reaches the DICOMweb services of one run.

    ``origin``: ``scheme://host:port`` joined to the statement's relative service paths.
    ``token`` (Bearer, RFC 6750) or ``user``/``password`` (Basic, RFC 7617): never shown.
    ``timeout``: seconds for connect, each read and each write, and twice that for a whole
    exchange. ``max_bytes``: a response body larger than this ends the exchange.
    """

    origin: str | None = None
    token: str | None = field(default=None, repr=False)
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_bytes: int = 256 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> WebAccess:
        """Access from the ``CONFORMANCE_DICOMWEB_*`` variables, *overrides* winning."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {"origin": env.get(ENV_URL) or None,
                                  "token": env.get(ENV_TOKEN) or None,
                                  "user": env.get(ENV_USER) or None,
                                  "password": env.get(ENV_PASSWORD) or None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def authorization(self, scheme: str) -> dict[str, str]:
        """The Authorization header for the statement's scheme ('none', 'basic', 'bearer')."""
        if scheme == "bearer" and self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if scheme == "basic" and self.user is not None:
            pair = f"{self.user}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    def missing_credentials(self, scheme: str) -> str:
        """'' or the set-up mistake: the statement's scheme needs credentials not given."""
        if scheme == "bearer" and not self.token:
            return (f"the statement declares Bearer authentication: give the token with "
                    f"--dicomweb-token or {ENV_TOKEN}")
        if scheme == "basic" and self.user is None:
            return (f"the statement declares Basic authentication: give {ENV_USER} and "
                    f"{ENV_PASSWORD}")
        return ""


def service_url(url: str, origin: str | None) -> str | None:
    """The absolute base URL of a service: *url* itself when absolute, else *url* (a path)
    joined to *origin*'s scheme and authority; ``None`` when a path has no origin."""
    if url.startswith(("http://", "https://")):
        return url.rstrip("/")
    if not origin:
        return None
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}{url}".rstrip("/")


def query_string(params: Sequence[tuple[str, str]]) -> str:
    """``key=value&...`` percent-encoded as RFC 3986 requires, wildcards and commas kept."""
    return "&".join(f"{quote(k, safe='')}={quote(str(v), safe=QUERY_SAFE)}" for k, v in params)


def media_type_of(content_type: str) -> tuple[str, dict[str, str]]:
    """(lower-case media type, parameters) of a Content-Type value (RFC 7231 3.1.1.1)."""
    msg = Message()
    msg["Content-Type"] = content_type or "application/octet-stream"
    params = {str(k).lower(): str(v) for k, v in (msg.get_params() or [])[1:]}
    return msg.get_content_type().lower(), params


class HasContentType:
    """Content-Type accessors for anything with lower-case ``headers`` (a response, a body part)."""

    headers: dict[str, str]

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return media_type_of(self.content_type)[0] if self.content_type else ""

    @property
    def params(self) -> dict[str, str]:
        return media_type_of(self.content_type)[1] if self.content_type else {}


@dataclass
class WebResponse(HasContentType):
    """What came back from one request (or why nothing usable did)."""

    method: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""
    elapsed: float = 0.0
    #: The TCP connection was made and the request sent: a later failure is the server's
    #: (no answer, garbage, too large), not the harness failing to reach it.
    connected: bool = False

    def describe(self) -> str:
        if self.error:
            return f"{self.method} {self.url}: {self.error}"
        return f"{self.method} {self.url}: HTTP {self.status} {self.content_type or '(no Content-Type)'}"

    def observation(self, what: str, **extra: Any) -> dict[str, Any]:
        """JSON-ready facts for the report (no credentials: they are never in the URL)."""
        out: dict[str, Any] = {"what": what, "request": f"{self.method} {self.url}",
                               "status": self.status, "content_type": self.content_type,
                               "bytes": len(self.body), "seconds": round(self.elapsed, 4)}
        if self.error:
            out["error"] = self.error
        out.update(extra)
        return out


class WebClient:
    """Requests to one origin server with the run's access, bounded in time and size."""

    def __init__(self, access: WebAccess, scheme: str = "none") -> None:
        self.access = access
        self.auth_headers = access.authorization(scheme)
        t = access.timeout
        self._client = httpx.Client(timeout=httpx.Timeout(t, connect=t, read=t, write=t, pool=t),
                                    follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebClient:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, *, params: Sequence[tuple[str, str]] = (),
                accept: str | None = None, content: bytes | None = None,
                content_type: str | None = None) -> WebResponse:
        """Send one request; never raises. *url* is absolute (see :func:`service_url`)."""
        full = f"{url}?{query_string(params)}" if params else url
        # identity: the body is checked as the server wrote it, and the cap counts real bytes.
        headers = {"Accept-Encoding": "identity", **self.auth_headers}
        if accept is not None:
            headers["Accept"] = accept
        if content_type is not None:
            headers["Content-Type"] = content_type
        res = WebResponse(method, full)
        limit = self.access.max_bytes
        deadline = 2 * self.access.timeout
        start = time.monotonic()
        try:
            with self._client.stream(method, full, headers=headers, content=content) as r:
                res.connected = True
                res.status = r.status_code
                res.headers = {k.lower(): v for k, v in r.headers.items()}
                chunks: list[bytes] = []
                size = 0
                for chunk in r.iter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        res.error = (f"the response body exceeded the harness' cap of {limit} "
                                     "bytes; the exchange was ended")
                        break
                    if time.monotonic() - start > deadline:
                        res.error = (f"the response was still arriving after {deadline:g} s; "
                                     "the exchange was ended")
                        break
                res.body = b"".join(chunks)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            res.error = f"could not connect ({type(exc).__name__}: {str(exc)[:160]})"
        except httpx.TimeoutException as exc:
            # a read or write timeout: the server took the connection and did not answer
            res.connected = not isinstance(exc, httpx.PoolTimeout)
            res.error = f"no answer within {self.access.timeout:g} s ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            res.connected = True
            res.error = f"{type(exc).__name__}: {str(exc)[:200] or 'HTTP exchange failed'}"
        except (OSError, ValueError, EOFError) as exc:
            res.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        res.elapsed = time.monotonic() - start
        return res
