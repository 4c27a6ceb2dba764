"""Report writers: HTML (self-contained), JSON and JUnit XML, all from one RunResults."""

from conformance.reporting.writers import write_reports

__all__ = ["write_reports"]
