"""The data one run stores on the device, kept in ``RunContext.shared`` for later steps.

Each run has its own token, so its patients, studies and UIDs never collide with an earlier
run's on a device that keeps what it stored (PS3.4 B.4.1: a storage SCP may refuse or
overwrite a duplicate SOP Instance UID). Three patients:

- the **Q/R patient**: one study, two series, three instances, in a native transfer syntax;
  the query, retrieve and commitment steps work on it (small, so C-GET contexts fit);
- the **storage patient**: one study, a series per storage SOP class, an instance per
  (SOP class, transfer syntax): the storage matrix and its round trips;
- one patient per character set checked (``PatientName`` in that repertoire).

Every patient ID starts with :data:`TEST_PATIENT_PREFIX` and the run's token
(``CONFTEST-1A2B3C4D-QR``), so a site finds and deletes what a run left on its PACS; the
run lists what it created (:meth:`RunData.created_on_device`) in its report.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from conformance.services.encoding import NATIVE, Encoded, encode, top_copy

SHARED_KEY = "services.data"
STUDY_DATE = "20260101"
PRIVATE_CREATOR = "CONFORMANCE HARNESS"
PRIVATE_VALUE = "kept by the device?"
#: The start of every test patient's Patient ID (LO, PS3.5 6.2: at most 64 characters).
TEST_PATIENT_PREFIX = "CONFTEST-"
PROCEDURE_CODE = ("CONF1", "99CONF", "Conformance procedure")

#: Person names per Specific Character Set term (PS3.5 6.1, Annex H/J examples).
CHARSET_NAMES = {"ISO_IR 192": "Müller^Jürgen=张三^李四", "GB18030": "张三^李四",
                 "ISO_IR 100": "Müller^Jürgen", "": "Smith^John"}


@cache
def _synth(sop_class: str) -> Dataset:
    from conformance.iod import synthesize
    return synthesize(sop_class)


@dataclass
class Stored:
    """One instance the device answered Success (or a warning) to."""

    sop_class: str
    transfer_syntax: str
    sop_instance: str
    series: str
    study: str
    patient_id: str
    encoded: Encoded


@dataclass
class RunData:
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8].upper())
    stored: dict[str, Stored] = field(default_factory=dict)   # by SOP Instance UID
    lock: threading.Lock = field(default_factory=threading.Lock)
    qr_ready: bool | None = None
    qr_problem: str = ""
    _bases: dict[tuple, Dataset] = field(default_factory=dict)

    # identities ----------------------------------------------------------------------
    def patient(self, role: str) -> str:
        """The Patient ID of one test patient of this run: prefix, token, role."""
        return f"{TEST_PATIENT_PREFIX}{self.token}-{role}"[:64]

    @property
    def qr_patient(self) -> str:
        return self.patient("QR")

    @property
    def storage_patient(self) -> str:
        return self.patient("STORE")

    def created_on_device(self) -> list[dict[str, Any]]:
        """What this run stored on the device (answered Success or a warning), per patient
        and study: patient ID, study UID, series and instance counts."""
        with self.lock:
            items = list(self.stored.values())
        by_study: dict[tuple[str, str], list[Stored]] = {}
        for st in items:
            by_study.setdefault((st.patient_id, st.study), []).append(st)
        return [{"patient_id": patient, "study_uid": study, "series": len({s.series for s in group}),
                 "instances": len(group)} for (patient, study), group in sorted(by_study.items())]

    @property
    def qr_name(self) -> str:
        return f"HARNESS^CONFORMANCE{self.token}"

    @property
    def accession(self) -> str:
        return f"A{self.token}"

    def uid(self, *what: str) -> str:
        return str(generate_uid(entropy_srcs=[self.token, *what]))

    @property
    def qr_study(self) -> str:
        return self.uid("qr-study")

    # instances -----------------------------------------------------------------------
    def instance(self, sop_class: str, transfer_syntax: str, *, patient: str, name: str,
                 study: str, series: str, number: int, charset: str | None = None) -> Encoded:
        """The synthesized instance of *sop_class* with this run's identities, encoded."""
        key = (sop_class, patient, name, study, series, number, charset)
        base = self._bases.get(key)
        if base is None:
            base = self._bases[key] = self._base(sop_class, patient=patient, name=name, study=study,
                                                 series=series, number=number, charset=charset)
        ds = top_copy(base)
        ds.SOPInstanceUID = self.uid("instance", study, series, sop_class, transfer_syntax, str(number))
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        return encode(ds, transfer_syntax)

    def _base(self, sop_class: str, *, patient: str, name: str, study: str, series: str,
              number: int, charset: str | None) -> Dataset:
        ds = top_copy(_synth(sop_class))
        ds.PatientID, ds.PatientName = patient, name
        if charset is not None:
            ds.SpecificCharacterSet = charset or None
            if not charset:
                del ds.SpecificCharacterSet
        ds.PatientBirthDate = "19700101"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.StudyDate, ds.StudyTime = STUDY_DATE, "120000"
        ds.AccessionNumber = self.accession if patient == self.qr_patient else f"S{self.token}"
        ds.StudyID = "CONF"
        ds.SeriesNumber = number
        ds.InstanceNumber = number
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = PROCEDURE_CODE
        ds.ProcedureCodeSequence = [code]
        block = ds.private_block(0x0019, PRIVATE_CREATOR, create=True)
        block.add_new(0x10, "LO", PRIVATE_VALUE)
        return ds

    def record(self, enc: Encoded) -> Stored:
        ds = enc.dataset
        st = Stored(str(ds.SOPClassUID), enc.transfer_syntax, str(ds.SOPInstanceUID),
                    str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID), str(ds.PatientID), enc)
        with self.lock:
            self.stored[st.sop_instance] = st
        return st

    def select(self, **match: str) -> list[Stored]:
        with self.lock:
            items = list(self.stored.values())
        return [s for s in items if all(getattr(s, k) == v for k, v in match.items())]


def run_data(shared: dict[str, Any]) -> RunData:
    data = shared.get(SHARED_KEY)
    if data is None:
        data = shared[SHARED_KEY] = RunData()
    return data


def native_syntax(declared: tuple[str, ...]) -> str | None:
    """The native transfer syntax to use for data the other services work on."""
    for ts in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99",
               "1.2.840.10008.1.2.2"):
        if ts in declared and ts in NATIVE:
            return ts
    return None
