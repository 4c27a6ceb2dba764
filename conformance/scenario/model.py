"""Typed form of a scenario file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

#: The step kinds a scenario may use, one key each in the file (see scenario.schema.json).
STEP_KINDS = ("associate", "release", "abort", "echo", "store", "find", "worklist", "move", "get",
              "mpps_create", "mpps_set", "commitment", "wait", "load")


@dataclass(frozen=True)
class ScenarioStep:
    id: str
    kind: str
    spec: Mapping[str, Any]
    title: str = ""
    timeout: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    name: str
    file: str
    reference: str = ""
    description: str = ""
    family: str | None = None
    harness_scu: bool = True
    harness_scp: bool = False
    variables: Mapping[str, str] = field(default_factory=dict)
    steps: tuple[ScenarioStep, ...] = ()

    @property
    def folder(self) -> Path:
        return Path(self.file).parent
