"""The scenario runner: plan -> steps -> typed events -> handlers (console, recorder, reports)."""

from conformance.engine.model import Batch, Outcome, RunContext, RunOptions, Step, StepResult
from conformance.engine.runner import run

__all__ = ["Batch", "Outcome", "RunContext", "RunOptions", "Step", "StepResult", "run"]
