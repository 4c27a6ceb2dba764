"""Fixtures of the TLS tests: a test PKI made here with trustme (RSA keys: the BCP 195 suites
of PS3.15 B.9-B.11 are RSA suites), nothing fetched; real peers (DCMTK storescp +tls, Orthanc
with DICOM TLS) on free loopback ports, always stopped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from conformance.wire.tls import TlsOptions

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path            # a CA that signed nothing the peers present

    def options(self, ca: Path | None = None, client: bool = True) -> TlsOptions:
        return TlsOptions(str(ca or self.ca), str(self.client_cert) if client else None,
                          str(self.client_key) if client else None)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    rsa = trustme.KeyType.RSA
    ca = trustme.CA(key_type=rsa)
    server = ca.issue_cert("localhost", "127.0.0.1", key_type=rsa)
    client = ca.issue_cert("conformance-harness", key_type=rsa)
    other = trustme.CA(key_type=rsa)
    files = Pki(folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "client.pem",
                folder / "client.key", folder / "other-ca.pem")
    ca.cert_pem.write_to_path(str(files.ca))
    server.cert_chain_pems[0].write_to_path(str(files.server_cert))
    server.private_key_pem.write_to_path(str(files.server_key))
    client.cert_chain_pems[0].write_to_path(str(files.client_cert))
    client.private_key_pem.write_to_path(str(files.client_key))
    other.cert_pem.write_to_path(str(files.other_ca))
    return files
