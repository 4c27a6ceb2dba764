"""The ``secure_transport`` section of a statement (PS3.15 Annex B) -> :class:`SecureTransport`.

Runs after the JSON Schema (shapes are already right) and checks what the schema cannot, each
problem with its file, line and key like the rest of the loader: AE titles reachable over TLS
must be AE titles of the device (``network.ae_titles``); a plain port declared to answer must
be declared (``network.port``) and cannot also be a TLS port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.errors import Problem
from conformance.statement.yamlsource import SourceDocument


@dataclass(frozen=True)
class SecureTransport:
    """DICOM over TLS as the statement declares it."""

    #: Profile keys of :mod:`conformance.wire.tls` (``tls_profiles.json``).
    profiles: tuple[str, ...]
    ports: tuple[int, ...]
    client_certificate_required: bool = False
    ae_titles: tuple[str, ...] = ()
    #: Whether ``network.port`` answers plain DICOM; ``None`` when no plain port is declared.
    plain_port_answers: bool | None = None
    host_name: str | None = None
    line: int | None = None


def secure_transport_section(doc: SourceDocument, data: dict[str, Any],
                             problems: list[Problem]) -> SecureTransport | None:
    """The typed ``secure_transport`` section, or ``None`` when the statement has none."""
    section = data.get("secure_transport")
    if section is None:
        return None
    base = ("secure_transport",)
    net = data.get("network", {})
    device_aes = list(net.get("ae_titles", []))
    ae_titles = section.get("ae_titles", device_aes)
    for i, ae in enumerate(section.get("ae_titles", [])):
        if ae not in device_aes:
            problems.append(doc.problem(base + ("ae_titles", i),
                                        f"AE title {ae!r} is not one of network.ae_titles {device_aes}"))
    plain = net.get("port")
    answers = section.get("plain_port_answers")
    if answers is True and plain is None:
        problems.append(doc.problem(base + ("plain_port_answers",),
                                    "plain_port_answers is true but network.port (the plain port) is not declared"))
    if answers is None and plain is not None:
        answers = True
    if answers and plain in section["ports"]:
        problems.append(doc.problem(base + ("ports",),
                                    f"port {plain} is declared both as the plain port (network.port, answering "
                                    "plain DICOM) and as a TLS port"))
    return SecureTransport(profiles=tuple(section["profiles"]), ports=tuple(section["ports"]),
                           client_certificate_required=section.get("client_certificate_required", False),
                           ae_titles=tuple(ae_titles), plain_port_answers=answers if plain is not None else None,
                           host_name=section.get("host_name"), line=doc.line_of(base))
