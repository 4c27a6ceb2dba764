"""A listen session: the harness plays the SCPs a device's SCU declarations need, and turns
what the device does into steps of one event-driven run (:class:`conformance.engine.live.LiveRun`).

Step ids (each made when it happens; the same events, recorder and reports as ``run``):

``listen/association/<n>``
    The n-th association request: AE titles, application context, context IDs, maximum
    length, implementation UID/version, role selection (:mod:`.negotiate`), how it ended.
``listen/proposed/<SOP>/<TS>``
    First proposal of a (SOP class, transfer syntax) in the session; a warning if the
    statement does not declare it as SCU. Feeds the SCU matrix (declared vs proposed).
``listen/instance/<SOP Instance UID>``
    A received instance, validated (IOD, and private attributes against the statement)
    off the network thread.
``listen/find/<n>-<msg>``, ``listen/move/<n>-<msg>``, ``listen/get/<n>-<msg>``, ``listen/worklist/<n>-<msg>``,
``listen/mpps/<uid>/create``, ``listen/mpps/<uid>/set-<k>``, ``listen/commitment/<transaction uid>``
    The other services' requests (see their modules).
``listen/not-observed/<SOP>``
    Declared as SCU, never proposed in the session, or not in some of its declared transfer
    syntaxes (listed in the step; skipped, not failed). One step per SOP class, not per
    transfer syntax: a statement declaring 150 classes x 26 syntaxes would make 4,000.
``listen/misbehaviour/<kind>``
    What the harness did wrong on purpose and how the device reacted.
``listen/session``
    The session: how it ended, counts, limits; *error* when nothing arrived (exit 3).
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.engine.events import Handler
from conformance.engine.live import LiveRun
from conformance.engine.model import Outcome, StepResult
from conformance.engine.results import RunResults
from conformance.findings import Finding, Severity
from conformance.listen.misbehaviour import Misbehaviour
from conformance.listen.reactions import misbehaviour_steps
from conformance.listen.negotiate import Answer, check_proposal, check_request
from conformance.listen.protocol import protocol_findings
from conformance.listen import commitment, mpps, query, worklist
from conformance.listen.server import Association, Limits, Listener
from conformance.listen.storage import StorageSCP
from conformance.listen.store import Store, StoredInstance, describe, naming, safe_uid
from conformance.listen.validation import naming_header, quick_names, validate_batch, warm, worker_init
from conformance.services.status import FAILURE, classify
from conformance.standard import uids
from conformance.statement.model import Role, Statement
from conformance.wire import dimse
from conformance.wire.dimse import Message
from conformance.wire.pdu import AssociateRequest


@dataclass
class ListenConfig:
    """What a session needs. ``destinations``: AE title -> (host, port) for C-MOVE and for
    storage commitment reports on a new association."""

    statement: Statement
    out: Path
    host: str = "127.0.0.1"
    port: int = 0
    timeout: float = 600.0
    expect_instances: int | None = None
    expect_associations: int | None = None
    validate: bool = True
    limits: Limits = Limits()
    misbehaviour: Misbehaviour = Misbehaviour()
    worklist_items: Sequence[Dataset] = ()
    destinations: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    commitment_report: str = "new"
    commitment_delay: float = 0.2
    strict: bool = False
    workers: int = 1
    preload: Path | None = None
    #: TLS (PS3.15 Annex B): the acceptor's socket wrapper (``conformance.wire.tls.acceptor_wrap``).
    wrap: Callable[[socket.socket], socket.socket] | None = None

    @property
    def ae_title(self) -> str:
        return self.statement.harness.ae_title


def _kw(uid: str, names: Mapping[str, str]) -> str:
    return names.get(uid) or uids.keyword_of(uid)


class ListenSession:
    """Run with :meth:`run` (start, wait, stop) or drive it: :meth:`start`, :meth:`wait`,
    :meth:`stop`. Thread-safe callbacks come from the association threads."""

    def __init__(self, config: ListenConfig, handlers: Sequence[Handler] = ()) -> None:
        self.config = config
        self.statement = config.statement
        self.names = dict(self.statement.private_uids)
        self.store = Store(config.out / "instances")
        self.run_: LiveRun | None = None
        self.handlers = list(handlers)
        self.listener: Listener | None = None
        self._cond = threading.Condition()
        self._lock = threading.Lock()
        self.instances = 0
        self.associations = 0
        self.ended_associations = 0
        self.limit_hits: list[str] = []
        #: Accept failures (errno name and text, attempts in a row): the session cannot conform.
        self.accept_errors: list[tuple[str, int]] = []
        self.proposed: set[tuple[str, str]] = set()
        self.request_findings: dict[int, list[Finding]] = {}
        self.pending = 0                                   # instances waiting for validation
        self._queue: queue.Queue[tuple | None] = queue.Queue()
        self._feeder: threading.Thread | None = None
        # Received instances waiting to be named (header read) and reported, off the network
        # thread: the acceptor only stores and answers (see _on_arrival / _name_arrivals).
        self._arrivals: queue.Queue[tuple | None] = queue.Queue()
        self._namer: threading.Thread | None = None
        self.executor: cf.ProcessPoolExecutor | None = None
        self.failures: list[tuple[str, int, int]] = []     # (uid, status, association) answered with a failure
        self.after_failure: Counter[str] = Counter()
        self.rejections: list[tuple[int, str, str, int]] = []
        self.association_ends: list[tuple[int, str, int]] = []
        self.instance_ids: Counter[str] = Counter()
        self.started = 0.0
        self.end_reason = ""
        self.services: dict[str, Callable[[Association, Message], None]] = {}
        self.extra_steps: list[Callable[[], None]] = []

    # --- set-up ----------------------------------------------------------------------------
    @property
    def run(self) -> LiveRun:
        assert self.run_ is not None
        return self.run_

    @property
    def port(self) -> int:
        return self.listener.port if self.listener else self.config.port

    def report(self, step_id: str, title: str, reference: str, result: StepResult, duration: float = 0.0) -> bool:
        return self.run.report(step_id, title, reference, result, duration)

    def _build_services(self, storage: StorageSCP) -> None:
        self.services = {"storage": storage, "echo": self._echo}
        self.services.update(query.services(self))
        self.services["worklist"] = worklist.WorklistSCP(self)
        self.services["mpps"] = mpps.MppsSCP(self)
        self.services["commitment"] = commitment.CommitmentSCP(self)

    def start(self) -> ListenSession:
        cfg = self.config
        cfg.out.mkdir(parents=True, exist_ok=True)
        if cfg.preload is not None:
            self.store.load_folder(cfg.preload)
        if cfg.validate:
            # Started (forked) before any listener thread exists; the validator imported once.
            self.executor = cf.ProcessPoolExecutor(max_workers=max(1, cfg.workers), initializer=worker_init)
            self.executor.submit(warm).result(timeout=120)
            self._feeder = threading.Thread(target=self._feed_validation, daemon=True, name="listen-validation")
            self._feeder.start()
        self._namer = threading.Thread(target=self._name_arrivals, daemon=True, name="listen-arrivals")
        self._namer.start()
        storage = StorageSCP(self.store, self._on_arrival, cfg.misbehaviour, cfg.limits.max_store)
        self._build_services(storage)
        self.listener = Listener(self, self.services, cfg.host, cfg.port, cfg.limits, cfg.misbehaviour,
                                 open_sink=storage.open_sink, discard_sink=storage.discard,
                                 private_sop_classes=frozenset(n.uid for n in self.statement.private.sop_classes))
        self.listener.wrap = cfg.wrap
        try:
            self.listener.start()
        except OSError:
            if self.executor is not None:
                self.executor.shutdown(wait=False, cancel_futures=True)
            raise
        target = {"host": cfg.host, "port": self.listener.port, "called_ae": cfg.ae_title,
                  "calling_ae": ", ".join(self.statement.network.ae_titles), "mode": "listen",
                  "timeouts": {"session": cfg.timeout, "acse": cfg.limits.acse_timeout,
                               "idle": cfg.limits.idle_timeout, "dimse": cfg.limits.dimse_timeout}}
        options = {"strict": cfg.strict, "mode": "listen", "role": "SCU", "validate": cfg.validate,
                   "misbehaviour": cfg.misbehaviour.describe(),
                   "max_associations": cfg.limits.max_associations}
        # Assigned before it starts: an association may arrive as soon as "listening" is printed.
        self.run_ = LiveRun(self.statement, target, options, self.handlers)
        self.run_.start()
        self.started = time.monotonic()
        return self

    # --- end conditions ----------------------------------------------------------------------
    def _done(self) -> str | None:
        cfg = self.config
        open_now = self.listener.open_count() if self.listener else 0
        with self._lock:
            open_now += self.pending            # validations still running
        if cfg.expect_instances is not None and self.instances >= cfg.expect_instances and not open_now:
            return f"the {cfg.expect_instances} expected instance(s) arrived"
        if (cfg.expect_associations is not None and self.ended_associations >= cfg.expect_associations
                and not open_now):
            return f"the {cfg.expect_associations} expected association(s) ended"
        return None

    def wait(self) -> str:
        """Block until the expected items arrived or the session timeout; the reason."""
        deadline = self.started + self.config.timeout
        with self._cond:
            while True:
                reason = self._done()
                if reason:
                    return reason
                left = deadline - time.monotonic()
                if left <= 0:
                    return f"session timeout ({self.config.timeout:g} s)"
                self._cond.wait(min(left, 0.5))

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def stop(self, reason: str, aborted: str | None = None) -> RunResults:
        self.end_reason = reason
        if self.listener is not None:
            self.listener.stop(grace=2.0)
        if self._namer is not None:
            self._arrivals.put(None)
            self._namer.join(30.0 + 0.01 * self.pending)
        if self._feeder is not None:
            self._queue.put(None)
            with self._cond:                    # bounded: a few ms per instance still queued
                deadline = time.monotonic() + 30.0 + 0.01 * self.pending
                while self.pending and time.monotonic() < deadline:
                    self._cond.wait(0.2)
            self._feeder.join(5)
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        for extra in self.extra_steps:
            extra()
        self._not_observed()
        misbehaviour_steps(self)
        self._session_step()
        return self.run.finish(aborted)

    def run_until_done(self) -> RunResults:
        """Start, wait for the end, stop. Ctrl-C (KeyboardInterrupt) ends the session like a
        timeout, with its reports; a second Ctrl-C while stopping is ignored (stopping is
        bounded)."""
        main = threading.current_thread() is threading.main_thread()
        interrupted: list[int] = []
        previous = signal.signal(signal.SIGINT, lambda *_a: interrupted.append(1)) if main else None
        try:
            try:
                self.start()                # a Ctrl-C now is noted, and acted on once started
            finally:
                if main:
                    signal.signal(signal.SIGINT, previous)
            if interrupted:
                raise KeyboardInterrupt
            reason = self.wait()
        except KeyboardInterrupt:
            if self.run_ is None:
                raise
            return self._stop_quietly("interrupted by the user (Ctrl-C)", "interrupted by the user")
        return self._stop_quietly(reason, None)

    def _stop_quietly(self, reason: str, aborted: str | None) -> RunResults:
        """Stop with SIGINT and SIGTERM ignored: a second signal while stopping cannot lose
        the final record (written by :meth:`stop`) or, in the CLI, the reports after it."""
        main = threading.current_thread() is threading.main_thread()
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
        try:
            return self.stop(reason, aborted=aborted)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- observer callbacks (association threads) ------------------------------------------
    def on_limit(self, peer: str, what: str) -> None:
        with self._lock:
            self.limit_hits.append(f"{peer}: {what}")

    def on_accept_error(self, what: str, streak: int) -> None:
        with self._lock:
            self.accept_errors.append((what, streak))

    def on_request(self, assoc: Association, req: AssociateRequest, ans: Answer | None) -> None:
        with self._lock:
            self.associations += 1
        findings = check_request(req, self.statement, self.config.ae_title)
        self.request_findings[assoc.number] = findings
        if ans is None:
            return
        for ctx in ans.contexts:
            if not ctx.accepted and self.config.misbehaviour.reject:
                with self._lock:
                    self.rejections.append((assoc.number, ctx.proposed.abstract_syntax,
                                            ",".join(ctx.proposed.transfer_syntaxes), ctx.result))
            for ts in ctx.proposed.transfer_syntaxes:
                key = (ctx.proposed.abstract_syntax, ts)
                with self._lock:
                    if key in self.proposed:
                        continue
                    self.proposed.add(key)
                sop_kw, ts_kw = _kw(key[0], self.names), _kw(ts, self.names)
                result = StepResult(findings=check_proposal(self.statement, *key),
                                    observations=[{"role": "SCU", "sop_class": key[0], "transfer_syntax": ts,
                                                   "result": 0, "association": assoc.number,
                                                   "harness_result": ctx.result}])
                self.report(f"listen/proposed/{sop_kw}/{ts_kw}",
                            f"{uids.name_of(key[0])} proposed in {ts_kw}", "PS3.8 9.3.2.2; PS3.2 A.4.1", result)

    def on_end(self, assoc: Association) -> None:
        req = assoc.request
        findings = list(self.request_findings.pop(assoc.number, []))
        end = assoc.end or "closed"
        exercised = bool(self.config.misbehaviour.active)
        if end == "closed-without-release" and not exercised:
            findings.append(Finding("listen.no-release", Severity.WARNING,
                                    "The device closed the TCP connection without A-RELEASE or A-ABORT.",
                                    reference="PS3.8 7.2, 9.3.6"))
        elif end == "idle-timeout":
            findings.append(Finding("listen.association-idle", Severity.WARNING,
                                    f"The device left the association idle for {self.config.limits.idle_timeout:g} s "
                                    "without releasing it; the harness aborted it.", reference="PS3.8 7.2, 9.1.5"))
        elif end == "aborted-by-device" and not exercised:
            findings.append(Finding("listen.device-aborted", Severity.WARNING,
                                    f"The device aborted the association ({assoc.end_detail}).",
                                    reference="PS3.8 7.3-7.4"))
        elif end == "no-request":
            findings.append(Finding("listen.no-associate-request", Severity.WARNING,
                                    f"A TCP connection from {assoc.peer} sent no A-ASSOCIATE-RQ ({assoc.end_detail}).",
                                    reference="PS3.8 9.1.5 (ARTIM)"))
        elif end == "rejected-limit":
            findings.append(Finding("listen.association-limit", Severity.WARNING,
                                    f"Association refused: {assoc.end_detail or 'over the limit'} (A-ASSOCIATE-RJ "
                                    "transient, service provider (presentation), local-limit-exceeded).",
                                    reference="PS3.8 9.3.4, Table 9-21; harness limit"))
        findings += protocol_findings(assoc, end, {f.code for f in findings})
        counts = Counter(assoc.log)
        obs: dict[str, Any] = {"association": assoc.number, "peer": assoc.peer, "end": end,
                               "end_detail": assoc.end_detail, "requests": dict(counts),
                               "duration": round((assoc.ended_at or time.monotonic()) - assoc.started, 3)}
        title = f"association {assoc.number} from {assoc.peer}"
        if req is not None:
            obs.update({"calling_ae": req.calling_ae, "called_ae": req.called_ae, "max_pdu": req.max_pdu,
                        "implementation_class_uid": req.implementation_class_uid,
                        "implementation_version_name": req.implementation_version_name,
                        "contexts": len(req.contexts), "accepted": len(assoc.contexts),
                        "role_selection": {k: list(v) for k, v in req.roles.items()},
                        "other_user_items": req.other_items})
            title = f"association {assoc.number}: {req.calling_ae} -> {req.called_ae}"
        with self._lock:
            self.association_ends.append((assoc.number, end, assoc.requests))
        what = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no requests"
        # A fault of the harness itself ended it: the association could not be tested.
        fault = assoc.end_detail.startswith("harness error")
        self.report(f"listen/association/{assoc.number}", title, "PS3.8 9.3.2; PS3.7 D.3.3",
                    StepResult(findings=findings, observations=[obs], outcome=Outcome.ERROR if fault else None,
                               message=f"{end}; {what}" + (f" ({assoc.end_detail})" if fault else "")),
                    obs["duration"])
        with self._lock:
            self.ended_associations += 1
        self._notify()

    # --- services ------------------------------------------------------------------------
    def _echo(self, assoc: Association, msg: Message) -> None:
        """Verification SCP (PS3.7 9.3.5): C-ECHO-RSP Success."""
        if msg.command.field != dimse.C_ECHO_RQ:
            assoc.respond(msg, msg.command.field | 0x8000, 0x0211)
            return
        assoc.respond(msg, dimse.C_ECHO_RSP, 0x0000)

    def _on_arrival(self, assoc: Association, item: StoredInstance | None, status: int,
                    findings: list[Finding], msg: Message) -> None:
        uid = msg.command.text(0x1000)
        count = self.store.count_arrival(uid) if uid else 0
        failed = classify(status, "storage").category == FAILURE
        with self._lock:
            if failed and item is not None:
                self.failures.append((uid, status, assoc.number))
            elif self.failures:
                self.after_failure["requests"] += 1
            if not failed:
                self.instances += 1
            # One step per received instance, however malformed its UID: every invalid UID
            # counts under one key, so the n-th gets its own step id (nothing path-like in ids).
            key = uid if safe_uid(uid) else "invalid-uid"
            self.instance_ids[key] += 1
            n = self.instance_ids[key]
        step_id = f"listen/instance/{key}" + (f"/{n}" if n > 1 else "")
        sop = msg.command.text(0x0002)
        obs = {"sop_class": sop, "sop_instance": uid, "transfer_syntax": assoc.transfer_syntax(msg.context_id),
               "association": assoc.number, "status": f"0x{status:04X}", "bytes": msg.data_length,
               "arrival": count, "calling_ae": assoc.request.calling_ae if assoc.request else ""}
        title = f"{uids.name_of(sop)} instance received"
        with self._lock:
            self.pending += 1                   # named, then reported or validated
        if item is not None and not failed and self.config.validate and self.executor is not None:
            # Straight to validation: the worker reads the file anyway and names the instance
            # from it, so the header is read once (no naming read on this process's threads).
            obs["file"] = str(item.path.name)
            self._queue.put((step_id, title, findings, obs, str(item.path), sop, uid, time.monotonic(), count))
            return
        self._arrivals.put((step_id, title, findings, obs, item, failed, status, count, sop, uid))

    def _name_arrivals(self) -> None:
        """Arrivals thread (instances not validated: validation off, or not kept): names each
        received instance from a partial header read (patient, study, series), notes a re-sent
        UID and reports the step. Off the network thread, so the acceptor only stores."""
        while True:
            arrival = self._arrivals.get()
            if arrival is None:
                return
            try:
                self._name_and_report(*arrival)
            except Exception as exc:  # noqa: BLE001 - a harness fault ends this step, not the thread
                step_id, title, findings, obs = arrival[:4]
                self.report(step_id, title, "PS3.4 B.2.2", StepResult(
                    findings=list(findings), observations=[obs], outcome=Outcome.ERROR,
                    message=f"harness error while naming the instance: {type(exc).__name__}: {exc}"))
                with self._lock:
                    self.pending -= 1
                self._notify()

    def _name_and_report(self, step_id: str, title: str, findings: list[Finding], obs: dict,
                         item: StoredInstance | None, failed: bool, status: int, count: int,
                         sop: str, uid: str) -> None:
        kept = item is not None and not failed
        who: dict[str, str] | None = None
        try:
            if kept and item is not None:
                who = quick_names(item.path, item.transfer_syntax, uids.name_of(sop) if sop else "", uid)
            ds = naming_header(item.path) if who is None and kept and item is not None else None
        except Exception:  # noqa: BLE001 - unreadable: validation reports it; named by UID only
            ds = None
        who = who or describe(ds, sop, uid)
        if kept and item is not None:
            obs["file"] = str(item.path.name)
        findings = self._named(obs, who, findings, count, kept)
        message = (f"answered 0x{status:04X}: not kept" if failed or item is None
                   else "kept; not validated (validation off)") + f": {naming(who)}"
        # Over the store size cap: the harness could not test this instance (not the device's fault).
        outcome = Outcome.ERROR if any(f.code == "listen.store-too-large" for f in findings) else None
        self.report(step_id, title, "PS3.4 B.2.2; PS3.3", StepResult(findings=list(findings), outcome=outcome,
                                                                      observations=[obs], message=message))
        with self._lock:
            self.pending -= 1
        self._notify()

    @staticmethod
    def _named(obs: dict, who: dict[str, str], findings: list[Finding], count: int, kept: bool) -> list[Finding]:
        """*obs* completed with the instance's names; a re-sent UID noted (PS3.4 B.2.2)."""
        obs.update({k: v for k, v in who.items() if k not in obs and v})
        if count > 1:
            kept_as = f"; this copy is kept as {obs['file']}" if kept and obs.get("file") else ""
            findings = findings + [Finding("listen.instance-resent", Severity.WARNING if kept else Severity.INFO,
                                           f"{naming(who)} arrived {count} times in this session (a retry or a "
                                           f"resend){kept_as}; the earlier copy is kept too.",
                                           reference="PS3.4 B.2.2")]
        return findings

    def _feed_validation(self) -> None:
        """Validation feeder: hands received files to the worker processes in batches (one
        inter-process round trip per batch, not per file), at most ``workers + 1`` batches in
        flight, and reports each instance's step as its batch comes back."""
        assert self.executor is not None
        slots = threading.Semaphore(max(1, self.config.workers) + 1)
        private = tuple(self.statement.private.attributes)
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < 64:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            slots.acquire()
            try:
                future = self.executor.submit(validate_batch, [(b[4], b[5], b[6]) for b in batch], private)
            except RuntimeError as exc:         # the pool is shut down
                slots.release()
                self._validated(batch, None, str(exc))
                continue
            def done(f: cf.Future, batch: list[tuple] = batch) -> None:
                slots.release()
                self._batch_done(batch, f)

            future.add_done_callback(done)

    def _batch_done(self, batch: list[tuple], future: cf.Future) -> None:
        try:
            self._validated(batch, future.result(), "")
        except Exception as exc:  # noqa: BLE001 - the harness could not validate
            self._validated(batch, None, f"{type(exc).__name__}: {exc}")

    def _validated(self, batch: list[tuple], results: list | None, problem: str) -> None:
        for i, (step_id, title, findings, obs, _path, sop, uid, started, count) in enumerate(batch):
            if results is not None:
                extra, info, who = results[i]
                message, outcome = "kept and validated", None
            else:
                extra, info, who = [], {}, describe(None, sop, uid)
                message, outcome = f"kept; the harness could not validate it: {problem}", Outcome.ERROR
            findings = self._named(obs, who, findings, count, True)
            message += ": " + naming(who)
            if info:
                obs["info_findings"] = info
            self.report(step_id, title, "PS3.4 B.2.2; PS3.3; PS3.5", StepResult(
                findings=list(findings) + list(extra), observations=[obs], message=message, outcome=outcome),
                time.monotonic() - started)
        with self._lock:
            self.pending -= len(batch)
        self._notify()

    # --- closing steps ---------------------------------------------------------------------
    def _not_observed(self) -> None:
        by_sop: dict[str, set[str]] = {}
        for sop, ts in self.proposed:
            by_sop.setdefault(sop, set()).add(ts)
        for cap in self.statement.capabilities(Role.SCU):
            sop_kw = _kw(cap.sop_class, self.names)
            seen = by_sop.get(cap.sop_class, set())
            missing = [ts for ts in cap.transfer_syntaxes if ts not in seen]
            if not seen:
                self.report(f"listen/not-observed/{sop_kw}", f"{uids.name_of(cap.sop_class)}: declared as SCU, "
                            "never proposed", "statement", StepResult.skipped(
                                "not observed: the device never proposed this SOP class during the session"))
                continue
            if missing:
                names = [_kw(ts, self.names) for ts in missing]
                self.report(f"listen/not-observed/{sop_kw}", f"{uids.name_of(cap.sop_class)}: declared as SCU in "
                            f"{len(cap.transfer_syntaxes)} transfer syntax(es), {len(missing)} never proposed", "statement",
                            StepResult(message=f"not observed in: {', '.join(names)}", outcome=Outcome.SKIPPED,
                                       observations=[{"sop_class": cap.sop_class, "not_proposed": missing}]))

    def _session_step(self) -> None:
        cfg = self.config
        findings = [Finding("listen.association-limit", Severity.WARNING, f"Association limit reached: {hit}.",
                            reference="harness limit") for hit in self.limit_hits[:10]]
        for what, streak in self.accept_errors[:10]:
            findings.append(Finding("listen.accept-failed", Severity.WARNING,
                                    f"The harness could not accept a connection ({what}; {streak} attempt(s) in a row "
                                    "so far): devices may have been turned away; the harness went on accepting.",
                                    reference="harness fault"))
        obs = {"end": self.end_reason, "associations": self.associations, "instances": self.instances,
               "stored": len(self.store), "max_associations": cfg.limits.max_associations,
               "idle_timeout": cfg.limits.idle_timeout, "acse_timeout": cfg.limits.acse_timeout,
               "session_timeout": cfg.timeout, "bind": f"{cfg.host}:{self.port}",
               "max_per_peer": cfg.limits.max_per_peer, "max_store": cfg.limits.max_store,
               "accept_errors": self.listener.accept_errors if self.listener else 0,
               "duration": round(time.monotonic() - self.started, 3)}
        message = f"ended: {self.end_reason}; {self.associations} association(s), {self.instances} instance(s)"
        outcome = None
        if not self.associations:
            outcome, message = Outcome.ERROR, f"nothing arrived before the end ({self.end_reason})"
        elif cfg.expect_instances is not None and self.instances < cfg.expect_instances:
            outcome = Outcome.ERROR
            message = f"expected {cfg.expect_instances} instance(s), {self.instances} arrived ({self.end_reason})"
        if self.accept_errors:
            # Connections may have been lost before any association: never CONFORMS (exit 3).
            outcome = Outcome.ERROR
            failed = self.listener.accept_errors if self.listener else len(self.accept_errors)
            message += (f"; the acceptor failed to accept {failed} time(s) "
                        f"({self.accept_errors[0][0]}), so devices may have been turned away")
        self.report("listen/session", f"listen session as {cfg.ae_title} on {cfg.host}:{self.port}",
                    "PS3.8 9.1", StepResult(findings=findings, observations=[obs], message=message, outcome=outcome),
                    time.monotonic() - self.started)
