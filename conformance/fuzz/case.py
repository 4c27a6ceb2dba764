"""One fuzz case: the bytes sent and what they break; saved as ``<name>.bin`` (the exact byte
stream sent: the set-up A-ASSOCIATE-RQ, if any, then the malformed part) with a
``<name>.json`` sidecar, so ``conformance fuzz --replay <name>.bin`` sends it again."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from conformance.errors import InputError, Problem

#: Version of the sidecar format.
CASE_FORMAT = 1


@dataclass(frozen=True)
class Case:
    """A malformed input for the device.

    Parameters
    ----------
    area
        Which part of the protocol is fuzzed: ``associate-rq``, ``p-data``, ``command-set``,
        ``data-set``.
    label
        The kind of malformation (``item-length-overrun``), stable; findings key on it.
    what
        One sentence: what is malformed.
    reference
        The part of the standard the input violates or stresses (``PS3.8 9.3.2``).
    setup
        A well-formed A-ASSOCIATE-RQ sent first (its answer must be A-ASSOCIATE-AC), or empty
        when the malformed part is itself the first PDU.
    payload
        The malformed bytes, sent as they are.
    invalid
        The input is plainly invalid (the standard leaves no reading under which it is
        well-formed): accepting it without complaint is reported (warning).
    """

    area: str
    label: str
    what: str
    reference: str
    setup: bytes
    payload: bytes
    invalid: bool = False

    @property
    def key(self) -> tuple[bytes, bytes]:
        return self.setup, self.payload

    @property
    def size(self) -> int:
        return len(self.setup) + len(self.payload)

    def sidecar(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("setup", "payload")}
        data.update(format=CASE_FORMAT, setup_length=len(self.setup), payload_length=len(self.payload))
        data.update(extra or {})
        return data


def save(case: Case, folder: Path, name: str, extra: dict[str, Any] | None = None) -> Path:
    """Write ``name.bin`` (setup + payload, exactly as sent) and ``name.json``; the .bin path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.bin"
    path.write_bytes(case.setup + case.payload)
    meta = case.sidecar(extra)
    meta["replay"] = f"conformance fuzz --replay {path}"
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


#: A saved case is at most this big (the largest case the strategies build is far smaller).
MAX_CASE_FILE = 64 << 20


def load(path: str | Path) -> tuple[Case, dict[str, Any]]:
    """A saved case and its sidecar (``InputError`` naming the file on anything wrong)."""
    path = Path(path)
    side = path.with_suffix(".json")

    def bad(message: str, where: Path = path) -> InputError:
        return InputError([Problem(message, str(where))])

    try:
        if path.stat().st_size > MAX_CASE_FILE:
            raise bad(f"larger than {MAX_CASE_FILE} bytes: not a saved fuzz case")
        raw = path.read_bytes()
        meta = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise bad(f"not found (a saved case is NAME.bin with NAME.json beside it): {exc.filename}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise bad(f"cannot be read as a saved fuzz case: {exc}", side) from None
    if not isinstance(meta, dict) or meta.get("format") != CASE_FORMAT:
        raise bad(f"not a fuzz case sidecar of format {CASE_FORMAT}", side)
    try:
        cut = int(meta["setup_length"])
        case = Case(str(meta["area"]), str(meta["label"]), str(meta["what"]), str(meta["reference"]),
                    raw[:cut], raw[cut:], bool(meta.get("invalid", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"sidecar lacks or has a bad {exc}", side) from None
    if cut > len(raw):
        raise bad(f"sidecar says {cut} set-up bytes but the file has {len(raw)}", side)
    return case, meta
