#!/usr/bin/env python
"""Cross-check ``conformance/standard/data/sr_relationships.json`` against DCMTK's dsrdump.

DCMTK's dcmsr implements each SR IOD's Relationship Content Constraints table (PS3.3 Tables
A.35.x-2) and refuses to read a document holding a relationship its table does not allow
("Cannot add ..."). For each SR SOP Class this script writes one small document per by-value
(source value type, relationship type, target value type) triple: a root CONTAINER, the
source item under it (CONTAINS; sources the root cannot contain are not reachable and not
tested) and the target item under the source; and runs ``dsrdump`` on each. It prints, per
SOP Class, the triples DCMTK accepts that our table rejects (a false alarm risk: the table
here is older than DCMTK's, or wrong) and those it rejects that our table allows (DCMTK's
table is older, or ours is wrong). Exit 1 when DCMTK accepts anything our tables reject.

Usage::

    python bin/sr_relationships_vs_dcmtk.py [--dsrdump /usr/bin/dsrdump] [SOP_CLASS_UID ...]

About 1,200 dsrdump runs per SOP Class (some 10 s each on 2 cores). Not a test: a tool for
updating the data file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.iod import sr_relationships  # noqa: E402

VALUE_TYPES = ["TEXT", "CODE", "NUM", "DATETIME", "DATE", "TIME", "UIDREF", "PNAME", "SCOORD",
               "SCOORD3D", "TCOORD", "COMPOSITE", "IMAGE", "WAVEFORM", "CONTAINER"]
Triple = tuple[str, str, str]


def _code(value: str = "121071", scheme: str = "DCM", meaning: str = "Finding") -> Dataset:
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def _ref(sop_class: str, uid: str) -> Dataset:
    r = Dataset()
    r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID = sop_class, uid
    return r


def _item(vt: str, rel: str) -> Dataset:
    """A minimal content item of value type *vt* that DCMTK reads as valid (PS3.3 C.18)."""
    d = Dataset()
    d.RelationshipType, d.ValueType = rel, vt
    d.ConceptNameCodeSequence = [_code()]
    if vt == "TEXT":
        d.TextValue = "x"
    elif vt == "CODE":
        d.ConceptCodeSequence = [_code("T-1", "SRT", "y")]
    elif vt == "NUM":
        m = Dataset()
        m.NumericValue = "1"
        m.MeasurementUnitsCodeSequence = [_code("mm", "UCUM", "mm")]
        d.MeasuredValueSequence = [m]
    elif vt == "DATETIME":
        d.DateTime = "20240101120000"
    elif vt == "DATE":
        d.Date = "20240101"
    elif vt == "TIME":
        d.Time = "120000"
    elif vt == "UIDREF":
        d.UID = "1.2.3.4"
    elif vt == "PNAME":
        d.PersonName = "Doe^John"
    elif vt == "SCOORD":
        d.GraphicType, d.GraphicData = "POINT", [1.0, 1.0]
    elif vt == "SCOORD3D":
        d.GraphicType, d.GraphicData = "POINT", [1.0, 1.0, 1.0]
        d.ReferencedFrameOfReferenceUID = "1.2.3.9"
    elif vt == "TCOORD":
        d.TemporalRangeType, d.ReferencedSamplePositions = "POINT", [1]
    elif vt == "COMPOSITE":
        d.ReferencedSOPSequence = [_ref("1.2.840.10008.5.1.4.1.1.88.11", "1.2.3.5")]
    elif vt == "IMAGE":
        d.ReferencedSOPSequence = [_ref("1.2.840.10008.5.1.4.1.1.2", "1.2.3.6")]
    elif vt == "WAVEFORM":
        d.ReferencedSOPSequence = [_ref("1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.3.7")]
    elif vt == "CONTAINER":
        d.ContinuityOfContent = "SEPARATE"
    return d


def _document(sop_class: str, children: list[Dataset]) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.100"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, "1.2.3.100"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.101", "1.2.3.102"
    ds.Modality = "KO" if sop_class.endswith(".88.59") else "SR"
    ds.PatientName, ds.PatientID, ds.InstanceNumber, ds.SeriesNumber = "P", "1", 1, 1
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.ContentDate, ds.ContentTime = "20240101", "120000"
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = [_code("18748-4", "LN", "Report")]
    ds.ContentSequence = children
    return ds


def _accepted(dsrdump: str, folder: Path, sop_class: str, triple: Triple) -> bool:
    src, rel, tgt = triple
    if src == "CONTAINER":  # the root is the source
        children = [_item(tgt, rel)]
    else:
        source = _item(src, "CONTAINS")
        source.ContentSequence = [_item(tgt, rel)]
        children = [source]
    path = folder / f"{'_'.join(triple).replace(' ', '-')}.dcm"
    _document(sop_class, children).save_as(path, enforce_file_format=True)
    run = subprocess.run([dsrdump, str(path)], capture_output=True, text=True, timeout=30)
    out = run.stdout + run.stderr
    return run.returncode == 0 and "Cannot add" not in out and "Invalid by-value" not in out


def compare(dsrdump: str, sop_class: str) -> tuple[list[Triple], list[Triple]] | None:
    """(accepted by DCMTK but rejected here, rejected by DCMTK but allowed here), or None when
    there is no table here or DCMTK cannot read the SOP Class."""
    table = sr_relationships.table_for(sop_class)
    if table is None:
        return None
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        folder = Path(tmp)
        first = [("CONTAINER", "CONTAINS", vt) for vt in VALUE_TYPES]
        verdicts = dict(zip(first, pool.map(
            lambda t: _accepted(dsrdump, folder, sop_class, t), first)))
        if not any(verdicts.values()):
            return None
        sources = ["CONTAINER"] + [t for (_, _, t), ok in verdicts.items()
                                   if ok and t != "CONTAINER"]
        rest = [(s, r, t) for s in sources for r in sr_relationships.RELATIONSHIP_TYPES
                for t in VALUE_TYPES if (s, r) != ("CONTAINER", "CONTAINS")]
        verdicts.update(zip(rest, pool.map(
            lambda t: _accepted(dsrdump, folder, sop_class, t), rest)))
    ours = table.by_value
    return (sorted(t for t, ok in verdicts.items() if ok and t not in ours),
            sorted(t for t, ok in verdicts.items() if not ok and t in ours))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsrdump", default="/usr/bin/dsrdump")
    ap.add_argument("sop_classes", nargs="*")
    args = ap.parse_args()
    uids = args.sop_classes or sorted(sr_relationships._data()[1])
    worst = 0
    for uid in uids:
        found = compare(args.dsrdump, uid)
        table = sr_relationships.table_for(uid)
        name = table.name if table else "no table here"
        if found is None:
            print(f"{uid} ({name}): not compared (no table here, or DCMTK cannot read it)")
            continue
        more, less = found
        print(f"{uid} ({name}): DCMTK accepts, we reject {len(more)}; "
              f"DCMTK rejects, we allow {len(less)}")
        for t in more:
            print("   DCMTK accepts:", " ".join(t))
        for t in less:
            print("   DCMTK rejects:", " ".join(t))
        worst = worst or bool(more)
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
