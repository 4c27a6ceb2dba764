"""The instances a load run stores: synthesized once per (SOP class, transfer syntax), encoded
once, then sent with a new SOP Instance UID each (PS3.3 C.12.1.1.1: unique per instance).

The template is encoded with a placeholder SOP Instance UID of the same length as every UID
the run makes (44 characters: ``2.25.`` + a 39-digit UUID integer, PS3.5 B.2), so each instance
is the template's bytes with one substring replaced: no re-encoding per instance, so the load
generator costs far less than the device it measures.  All instances of a run share one study
and one series under a patient named for the harness, so the data left on the device is easy
to find and delete.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from conformance.services.storage import encode_dataset

#: Length of every SOP Instance UID the run makes (even: no padding, PS3.5 6.2 UI).
UID_LENGTH = 44
_PLACEHOLDER = "2.25." + "9" * (UID_LENGTH - 5)
#: Patient ID prefix of every test patient a run creates (the services' convention: a site
#: deletes the patients whose ID starts with it); the load patient ends in ``-LOAD``.
TEST_PATIENT_PREFIX = "CONFTEST-"
PATIENT_NAME = "CONFORMANCE^LOAD"


def uuid_uid() -> str:
    """A fresh ``2.25`` UID (PS3.5 B.2) of exactly :data:`UID_LENGTH` characters."""
    while True:
        value = f"2.25.{uuid.uuid4().int}"
        if len(value) == UID_LENGTH:
            return value


@dataclass
class Template:
    """One (SOP class, transfer syntax): the encoded data set and where its UID sits."""

    sop_class: str
    transfer_syntax: str
    raw: bytes
    at: int

    def instance(self, sop_instance: str) -> bytes:
        return self.raw[:self.at] + sop_instance.encode("ascii") + \
            self.raw[self.at + UID_LENGTH:]


@dataclass
class Payloads:
    """Templates of a run, plus the study and series every instance belongs to."""

    patient_id: str = TEST_PATIENT_PREFIX + "LOAD"
    study_uid: str = field(default_factory=uuid_uid)
    series_uid: str = field(default_factory=uuid_uid)
    templates: dict[tuple[str, str], Template] = field(default_factory=dict)

    def add(self, sop_class: str, transfer_syntax: str = ExplicitVRLittleEndian,
            dataset: Dataset | None = None) -> Template:
        """Synthesize (or take *dataset*) and encode; ``ValueError`` when the harness cannot
        make this one."""
        from conformance.iod.synth import synthesize

        ds = synthesize(sop_class, transfer_syntax) if dataset is None else dataset
        ds.SOPInstanceUID = _PLACEHOLDER
        ds.StudyInstanceUID = self.study_uid
        ds.SeriesInstanceUID = self.series_uid
        ds.PatientID = self.patient_id
        ds.PatientName = PATIENT_NAME
        ds.StudyDescription = "conformance harness load test " + \
            dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        raw = encode_dataset(ds, transfer_syntax)
        at = raw.find(_PLACEHOLDER.encode("ascii"))
        if at < 0 or raw.find(_PLACEHOLDER.encode("ascii"), at + 1) >= 0:
            raise ValueError("the SOP Instance UID is not found exactly once in the encoding "
                             f"({transfer_syntax})")
        t = self.templates[(sop_class, transfer_syntax)] = Template(sop_class, transfer_syntax,
                                                                    raw, at)
        return t


@dataclass
class CreatedByLoad:
    """What a load run left on the device, kept in ``RunContext.shared`` so the run's test
    data inventory lists it (any shared value with ``created_on_device()`` is asked)."""

    patient_id: str
    study_uid: str
    instances: int = 0

    def created_on_device(self) -> list[dict[str, object]]:
        if not self.instances:
            return []
        return [{"patient_id": self.patient_id, "study_uid": self.study_uid, "series": 1,
                 "instances": self.instances}]
