"""What a scenario carries from step to step within one run: variables, the open
association, the harness listener, what was stored. Kept in ``RunContext.shared``."""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from conformance.engine.model import RunContext
from conformance.scenario.model import Scenario

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariable(Exception):
    """A ${variable} no earlier step set (that step failed, or was not selected)."""


@dataclass
class ScenarioState:
    scenario: Scenario
    variables: dict[str, Any] = field(default_factory=dict)
    stored: list[tuple[str, str]] = field(default_factory=list)    # (SOP class, SOP instance)
    assoc: Any = None
    outcome: Any = None
    stack: ExitStack = field(default_factory=ExitStack)
    listener: Any = None
    msg_id: int = 0

    def next_id(self) -> int:
        self.msg_id = self.msg_id % 65535 + 1
        return self.msg_id

    def close_association(self, abort: bool = False) -> None:
        if self.assoc is not None and abort:
            self.assoc.abort()
        self.stack.close()
        self.stack = ExitStack()
        self.assoc = self.outcome = None

    def close(self) -> None:
        self.close_association()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    def expand(self, value: Any) -> Any:
        """Replace ${variable} in strings, recursively; "${x}" alone keeps x's type (a list)."""
        if isinstance(value, str):
            whole = _VAR.fullmatch(value)
            if whole:
                return self._get(whole.group(1))
            return _VAR.sub(lambda m: _text(self._get(m.group(1))), value)
        if isinstance(value, dict):
            return {k: self.expand(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.expand(v) for v in value]
        return value

    def _get(self, name: str) -> Any:
        if name not in self.variables:
            raise MissingVariable(f"variable ${{{name}}} is not set (the step that saves it failed or did not run)")
        return self.variables[name]


def _text(value: Any) -> str:
    """A list becomes a DICOM multi-value / UID list (PS3.4 C.2.2.2.2: values joined by \\)."""
    return "\\".join(map(str, value)) if isinstance(value, list) else str(value)


def state_of(ctx: RunContext, scenario: Scenario) -> ScenarioState:
    key = f"scenario:{scenario.id}"
    state = ctx.shared.get(key)
    if state is None:
        state = ctx.shared[key] = ScenarioState(scenario, dict(scenario.variables))
        ctx.cleanups.append(state.close)
    return state
