"""Append every event to results.jsonl as it happens, flushed each time, so a run killed with
SIGKILL leaves a file that ``conformance report`` renders (the kernel keeps what was flushed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conformance.engine.events import Event, Progress, RunFinished, to_dict


class JsonlRecorder:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8")

    def handle(self, event: Event) -> None:
        if isinstance(event, Progress):     # console-only: not part of the record
            return
        self._file.write(json.dumps(to_dict(event), ensure_ascii=False) + "\n")
        self._file.flush()
        if isinstance(event, RunFinished):
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
