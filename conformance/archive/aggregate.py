"""The archive report, folded from the results file in one streaming pass.

Memory is bounded by the vocabulary (IODs, finding codes) and a few examples each, never by
the number of files.  The "fit to migrate" verdict:

- **not fit**: some instances cannot be migrated as they are; a receiving archive cannot parse,
  identify (SOP Class/Instance UID, PS3.4 B.5, PS3.3 C.12.1) or index them (Study/Series
  Instance UID, PS3.3 C.7.2.1, C.7.3.1).  The rules are data: ``migration_blockers.json``;
- **fit after remediation**: every DICOM file is readable and identifiable, but some deviate
  from their IOD (errors); a receiving archive may accept or reject them by its own policy;
- **fit**: no errors.  Warnings and non-DICOM files are reported, they do not change it.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

#: Examples kept per IOD, per finding code, per status.
EXAMPLES = 3
#: Files listed as the worst.
WORST = 20


@lru_cache(maxsize=1)
def blocker_rules() -> tuple[dict[str, str], ...]:
    """The rules of ``migration_blockers.json``."""
    text = resources.files("conformance.archive").joinpath("migration_blockers.json").read_text(
        encoding="utf-8")
    return tuple(json.loads(text)["rules"])


def blocker_of(finding: Mapping[str, Any]) -> dict[str, str] | None:
    """The blocking rule a finding matches, if any."""
    for rule in blocker_rules():
        if rule["code"] == finding.get("code") and rule.get("tag", finding.get("tag")) == \
                finding.get("tag"):
            return rule
    return None


@dataclass
class CodeStat:
    code: str
    severity: str
    reference: str
    message: str
    count: int = 0
    files: int = 0
    examples: list[str] = field(default_factory=list)
    blocker: str | None = None


@dataclass
class IodStat:
    name: str
    files: int = 0
    with_errors: int = 0
    with_warnings: int = 0
    errors: int = 0
    warnings: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class ArchiveSummary:
    """Everything the archive report shows (see :func:`summarize`)."""

    files: int = 0
    status: dict[str, int] = field(default_factory=dict)
    status_examples: dict[str, list[str]] = field(default_factory=dict)
    files_with_errors: int = 0
    files_with_warnings_only: int = 0
    clean: int = 0
    blocked: int = 0
    errors: int = 0
    warnings: int = 0
    validation_ms: float = 0.0
    iods: dict[str, IodStat] = field(default_factory=dict)
    codes: dict[str, CodeStat] = field(default_factory=dict)
    blockers: dict[str, int] = field(default_factory=dict)
    worst: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dicom(self) -> int:
        return self.files - self.status.get("not-dicom", 0)

    @property
    def verdict(self) -> str:
        if self.blocked:
            return "not fit"
        if self.files_with_errors:
            return "fit after remediation"
        return "fit"

    @property
    def verdict_text(self) -> str:
        nd = self.status.get("not-dicom", 0)
        tail = f" {nd} non-DICOM file(s) were found and will not be migrated." if nd else ""
        if self.blocked:
            return (f"{self.blocked} of {self.dicom} DICOM file(s) cannot be migrated as they "
                    "are: a receiving archive cannot parse, identify or index them (see "
                    f"'Blocking'). {self.files_with_errors} file(s) have errors in all." + tail)
        if self.files_with_errors:
            return (f"every DICOM file is readable and identifiable, but "
                    f"{self.files_with_errors} of {self.dicom} deviate from their IOD: a "
                    "receiving archive may accept or reject them by its own policy; remediate "
                    "or accept them knowingly." + tail)
        return f"all {self.dicom} DICOM file(s) conform to their IOD (no errors)." + tail

    def sorted_codes(self) -> list[CodeStat]:
        order = {"error": 0, "warning": 1, "info": 2}
        return sorted(self.codes.values(), key=lambda c: (order.get(c.severity, 3), -c.files,
                                                          c.code))

    def sorted_iods(self) -> list[IodStat]:
        return sorted(self.iods.values(), key=lambda i: (-i.with_errors, -i.files, i.name))


def shown(path: str) -> str:
    """*path* for display: bytes that are not UTF-8 (surrogate escapes) become U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def summarize(records: Iterable[Mapping[str, Any]]) -> ArchiveSummary:
    """Fold result records (see :mod:`conformance.archive.work`) into the archive report."""
    s = ArchiveSummary()
    worst: list[tuple[int, int, int, dict[str, Any]]] = []
    for seq, rec in enumerate(records):
        path = shown(rec["file"])
        status = rec.get("status", "dicom")
        s.files += 1
        s.status[status] = s.status.get(status, 0) + 1
        ex = s.status_examples.setdefault(status, [])
        if len(ex) < EXAMPLES:
            ex.append(path)
        s.validation_ms += float(rec.get("ms") or 0)
        if status == "not-dicom":
            continue
        errors, warnings = int(rec.get("errors") or 0), int(rec.get("warnings") or 0)
        s.errors += errors
        s.warnings += warnings
        if errors:
            s.files_with_errors += 1
        elif warnings:
            s.files_with_warnings_only += 1
        else:
            s.clean += 1
        iod = s.iods.setdefault(rec.get("iod") or "(unknown IOD)",
                                IodStat(rec.get("iod") or "(unknown IOD)"))
        iod.files += 1
        iod.errors += errors
        iod.warnings += warnings
        iod.with_errors += bool(errors)
        iod.with_warnings += bool(warnings)
        if errors and len(iod.examples) < EXAMPLES:
            iod.examples.append(path)
        seen: set[str] = set()
        blocked = False
        for f in rec.get("findings") or ():
            code = f.get("code", "?")
            stat = s.codes.get(code)
            if stat is None:
                stat = s.codes[code] = CodeStat(code, f.get("severity", "error"),
                                                f.get("reference", ""), f.get("message", ""))
            stat.count += 1
            if code not in seen:
                seen.add(code)
                stat.files += 1
                if len(stat.examples) < EXAMPLES:
                    stat.examples.append(path)
            rule = blocker_of(f) if f.get("severity") == "error" else None
            if rule is not None:
                key = rule["reason"]
                stat.blocker = key
                if not blocked:
                    s.blockers[key] = s.blockers.get(key, 0) + 1
                    blocked = True
        for code, n in (rec.get("info_codes") or {}).items():
            stat = s.codes.get(code)
            if stat is None:
                stat = s.codes[code] = CodeStat(code, "info", "", "")
            stat.count += n
            if code not in seen:
                seen.add(code)
                stat.files += 1
                if len(stat.examples) < EXAMPLES:
                    stat.examples.append(path)
        s.blocked += blocked
        if errors or warnings:
            entry = {"file": path, "iod": rec.get("iod"), "errors": errors,
                     "warnings": warnings, "codes": sorted(seen)[:6]}
            item = (errors, warnings, -seq, entry)
            if len(worst) < WORST:
                heapq.heappush(worst, item)
            elif item[:3] > worst[0][:3]:
                heapq.heapreplace(worst, item)
    s.worst = [e for *_, e in sorted(worst, key=lambda t: t[:3], reverse=True)]
    return s
