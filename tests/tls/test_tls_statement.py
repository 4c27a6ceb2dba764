"""The statement's secure_transport section (file:line:key errors), the profile data, compare,
and the CLI's TLS options (exit 2 on bad input, never a traceback)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.errors import InputError
from conformance.statement import load_statement
from conformance.statement.compare import compare
from conformance.wire import tls

from .conftest import HERE


def _variant(tmp_path: Path, old: str, new: str, name: str = "storescp-tls.yaml") -> Path:
    text = (HERE / name).read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def test_an_unknown_profile_is_an_error_with_file_line_and_key(tmp_path: Path) -> None:
    path = _variant(tmp_path, "profiles: [bcp195-non-downgrading]", "profiles: [bcp195-nd]")
    with pytest.raises(InputError) as err:
        load_statement(path)
    text = str(err.value)
    assert f"{path}:" in text and "secure_transport" in text and "bcp195-nd" in text


def test_a_tls_ae_title_that_is_not_the_devices_is_an_error(tmp_path: Path) -> None:
    path = _variant(tmp_path, "client_certificate_required: true",
                    "client_certificate_required: true\n  ae_titles: [OTHER]")
    with pytest.raises(InputError) as err:
        load_statement(path)
    problem = err.value.problems[0]
    assert problem.line is not None and "secure_transport.ae_titles" in (problem.key or "") and "OTHER" in problem.message


def test_a_port_both_plain_and_tls_is_an_error(tmp_path: Path) -> None:
    path = _variant(tmp_path, "ae_titles: [STORESCP]\n", "ae_titles: [STORESCP]\n  port: 2762\n")
    with pytest.raises(InputError) as err:
        load_statement(path)
    assert "both as the plain port" in str(err.value)


def test_plain_port_answers_defaults_to_true_when_a_plain_port_is_declared(tmp_path: Path) -> None:
    path = _variant(tmp_path, "ae_titles: [STORESCP]\n", "ae_titles: [STORESCP]\n  port: 104\n")
    st = load_statement(path)
    assert st.secure_transport is not None and st.secure_transport.plain_port_answers is True


def test_every_profile_the_schema_allows_is_in_the_data_with_a_section_and_known_suites() -> None:
    import json

    schema = json.loads((Path(__file__).resolve().parents[2] / "conformance" / "statement"
                         / "statement.schema.json").read_text())
    keys = schema["properties"]["secure_transport"]["properties"]["profiles"]["items"]["enum"]
    known = tls.profiles()
    assert set(keys) == set(known)
    for p in known.values():
        assert p.section.startswith("PS3.15 B.")
        assert all(tls.openssl_name(s) for s in p.cipher_suites), p.key
    assert known["bcp195-non-downgrading"].forbidden_versions == {"TLSv1": "shall not", "TLSv1.1": "shall not"}


def test_compare_matches_tls_profiles(tmp_path: Path) -> None:
    a = load_statement(HERE / "storescp-tls.yaml")
    b = load_statement(HERE / "orthanc-tls.yaml")
    flags = [f for f in compare(a, b).flags if f.topic == "tls"]
    assert any(f.severity == "warning" and "No TLS profile in common" in f.message for f in flags)
    same = load_statement(_variant(tmp_path, "profiles: [bcp195]", "profiles: [bcp195, bcp195-non-downgrading]",
                                   "orthanc-tls.yaml"))
    flags = [f for f in compare(a, same).flags if f.topic == "tls"]
    assert any(f.severity == "info" and "Both declare PS3.15 B.10" in f.message for f in flags)
    assert not any(f.severity == "warning" for f in flags)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_render_shows_the_secure_transport_section(fmt: str) -> None:
    done = CliRunner().invoke(cli, ["render", str(HERE / "storescp-tls.yaml"), "--format", fmt])
    assert done.exit_code == 0, done.output
    assert "Non-Downgrading BCP 195 TLS Secure Transport Connection Profile (PS3.15 B.10)" in done.output
    assert "A client certificate is required." in done.output
    assert "No security profiles are declared." not in done.output


@pytest.mark.parametrize("args, says", [
    (["--tls-ca", "ca.pem"], "need --tls"),
    (["--tls", "--tls-ca", "missing.pem"], "no such file"),
    (["--tls", "--tls-ca", "garbage.pem"], "TLS set-up"),
    (["--tls", "--tls-key", "garbage.pem"], "--tls-key needs --tls-cert"),
])
def test_bad_tls_options_exit_2_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              args: list[str], says: str) -> None:
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    shutil.copy(HERE / "storescp-tls.yaml", tmp_path / "st.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "st.yaml"), "--port", "1", *args])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output
