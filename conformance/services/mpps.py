"""Modality Performed Procedure Step as SCU: N-CREATE then N-SET (PS3.4 Annex F).

PS3.4 F.7.2.1 (N-CREATE: Performed Procedure Step Status shall be IN PROGRESS), F.7.2.2
(N-SET: to COMPLETED or DISCONTINUED; once COMPLETED or DISCONTINUED the SCP shall refuse
further N-SETs with 0110 "Performed Procedure Step object may no longer be updated"),
F.7.2.2.2 (on COMPLETED the Performed Series Sequence holds at least one item).

No Debian package provides an MPPS SCP: these checks run against the reference device only.
Not covered: N-GET, the MPPS notification (N-EVENT-REPORT) SOP class, and type 2 return
attributes of Table F.7.2-1 beyond those set here.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from conformance.services.common import DimseMonitor
from conformance.services.status import StatusInfo, classify

MPPS = "1.2.840.10008.3.1.2.3.3"


def create_attributes(patient_id: str, patient_name: str, study_uid: str, station_ae: str,
                      when: tuple[str, str] = ("20260101", "120000")) -> Dataset:
    """The N-CREATE attribute list of PS3.4 Table F.7.2-1 (type 1 and 2), IN PROGRESS."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    step = Dataset()
    step.StudyInstanceUID = study_uid
    step.ReferencedStudySequence = []
    step.AccessionNumber = ""
    step.RequestedProcedureID = ""
    step.RequestedProcedureDescription = ""
    step.ScheduledProcedureStepID = ""
    step.ScheduledProcedureStepDescription = ""
    step.ScheduledProtocolCodeSequence = []
    ds.ScheduledStepAttributesSequence = [step]
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.ReferencedPatientSequence = []
    ds.PerformedProcedureStepID = "CONF-PPS-1"
    ds.PerformedStationAETitle = station_ae
    ds.PerformedStationName = ""
    ds.PerformedLocation = ""
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime = when
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepDescription = "conformance harness"
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = []
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = "OT"
    ds.StudyID = ""
    ds.PerformedProtocolCodeSequence = []
    ds.PerformedSeriesSequence = []
    return ds


def final_attributes(status: str, series_uid: str, retrieve_ae: str,
                     when: tuple[str, str] = ("20260101", "121000")) -> Dataset:
    """N-SET modification list that ends the step as *status* (PS3.4 F.7.2.2.2)."""
    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate, ds.PerformedProcedureStepEndTime = when
    series = Dataset()
    series.PerformingPhysicianName = ""
    series.ProtocolName = "conformance"
    series.OperatorsName = ""
    series.SeriesInstanceUID = series_uid
    series.SeriesDescription = ""
    series.RetrieveAETitle = retrieve_ae
    series.ReferencedImageSequence = []
    series.ReferencedNonImageCompositeSOPInstanceSequence = []
    ds.PerformedSeriesSequence = [series]
    return ds


def n_create(assoc: Any, attributes: Dataset, msg_id: int, *,
             monitor: DimseMonitor | None = None) -> tuple[StatusInfo | None, str]:
    """N-CREATE an MPPS instance; return its status and the SOP Instance UID used."""
    instance = str(generate_uid())
    status, _attrs = assoc.send_n_create(attributes, MPPS, instance, msg_id=msg_id)
    if "Status" not in status:
        return None, instance
    return classify(int(status.Status), "mpps"), instance


def n_set(assoc: Any, modification: Dataset, instance: str, msg_id: int) -> StatusInfo | None:
    status, _attrs = assoc.send_n_set(modification, MPPS, instance, msg_id=msg_id)
    if "Status" not in status:
        return None
    return classify(int(status.Status), "mpps")
