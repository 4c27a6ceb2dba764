"""Archive validation end to end: list lazily, skip what is done, validate, stream, report."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from conformance.archive.listing import Source, all_paths, batched, count
from conformance.archive.schedulers import Scheduler
from conformance.archive.store import ResultStore

#: Files per task: large enough that scheduling and IPC are small against validation (a few
#: ms a file), small enough that a killed run loses little and workers stay balanced.
DEFAULT_BATCH = 64


@dataclass
class Progress:
    """Counts of a run, as it goes (``total`` is ``None`` until counted; stdin: never)."""

    validated: int = 0
    already_done: int = 0
    total: int | None = None
    started: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        e = self.elapsed
        return self.validated / e if e > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.total is None or not self.rate:
            return None
        return max(0.0, (self.total - self.validated - self.already_done) / self.rate)

    def line(self) -> str:
        of = f"/{self.total - self.already_done}" if self.total is not None else ""
        eta = self.eta
        tail = f", ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else ""
        done = f" ({self.already_done} already in the results)" if self.already_done else ""
        return f"validated {self.validated}{of}{done}, {self.rate:.0f} files/s{tail}"


@dataclass
class RunOutcome:
    validated: int
    resumed: int
    elapsed: float
    complete: bool
    stopped: str = ""


def _counter(sources: Sequence[Source], progress: Progress) -> threading.Thread | None:
    if not all(s.countable for s in sources):
        return None

    def work() -> None:
        progress.total = count(sources)

    t = threading.Thread(target=work, name="archive-count", daemon=True)
    t.start()
    return t


def validate_archive(sources: Sequence[Source], store: ResultStore, scheduler: Scheduler, *,
                     facts: Mapping[str, bool] | None = None, private: tuple[Any, ...] = (),
                     keep_info: bool = False,
                     batch_size: int = DEFAULT_BATCH, stdin: TextIO | None = None,
                     on_progress: Callable[[Progress], None] | None = None,
                     progress_every: float = 1.0) -> RunOutcome:
    """Validate every listed file not yet in *store*, appending results as batches finish.

    Stops cleanly on Ctrl-C (the results so far stay; a re-run resumes).  A scheduler
    failure (:class:`~conformance.archive.schedulers.SchedulerError`) propagates after the
    finished batches are written.
    """
    progress = Progress(started=time.monotonic())
    _counter(sources, progress)

    def pending() -> Iterator[str]:
        for path in all_paths(sources, stdin):
            if store.done(path):
                progress.already_done += 1
            else:
                yield path

    last = 0.0
    complete = True
    stopped = ""
    try:
        options = {"facts": dict(facts or {}), "private": private, "keep_info": keep_info}
        for n, text in scheduler.run(batched(pending(), batch_size), options):
            store.append(text)
            progress.validated += n
            now = time.monotonic()
            if on_progress is not None and now - last >= progress_every:
                last = now
                on_progress(progress)
    except KeyboardInterrupt:
        complete = False
        stopped = "interrupted"
    if on_progress is not None:
        on_progress(progress)
    return RunOutcome(progress.validated, store.resumed, progress.elapsed, complete, stopped)
