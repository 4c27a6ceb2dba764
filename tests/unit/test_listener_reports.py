"""The harness listener hands each storage commitment report out once, by Transaction UID."""

from __future__ import annotations

from pydicom.dataset import Dataset

from conformance.services.listener import HarnessListener, Report


def _report(transaction: str) -> Report:
    ds = Dataset()
    ds.TransactionUID = transaction
    return Report(1, ds, "DEVICE", False)


def test_report_found_by_transaction_uid_and_handed_out_once() -> None:
    listener = HarnessListener("HARNESS", 0)
    listener.add_report(_report("1.2.3"))
    listener.add_report(_report("1.2.4"))
    second = listener.wait_report(0.05, "1.2.4")
    assert second is not None and second.dataset.TransactionUID == "1.2.4"
    first = listener.wait_report(0.05, "1.2.3")
    assert first is not None and first.dataset.TransactionUID == "1.2.3"
    # an old report never answers a later request
    assert listener.wait_report(0.05, "1.2.3") is None


def test_report_with_a_wrong_transaction_uid_is_still_returned_for_judging() -> None:
    listener = HarnessListener("HARNESS", 0)
    listener.add_report(_report("9.9.9"))
    got = listener.wait_report(0.05, "1.2.3")
    assert got is not None and got.dataset.TransactionUID == "9.9.9"
    assert listener.wait_report(0.05, "1.2.3") is None
