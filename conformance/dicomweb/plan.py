"""The dicomweb scenario family: the statement's ``dicomweb`` section turned into steps.

Step ids (stable; ``-k dicomweb/`` selects them all):

- ``dicomweb/stow/<SOP class>``, ``dicomweb/stow/study-mismatch`` (PS3.18 10.5);
- ``dicomweb/qido/<level>``, ``dicomweb/qido/match/<kind>``, ``dicomweb/qido/includefield``,
  ``dicomweb/qido/includefield-all``, ``dicomweb/qido/paging``, ``dicomweb/qido/bad-query``
  (PS3.18 10.6, 8.3.4);
- ``dicomweb/wado/instances/<syntax>``, ``dicomweb/wado/study``, ``dicomweb/wado/metadata``,
  ``dicomweb/wado/frames/<media>``, ``dicomweb/wado/bulkdata``,
  ``dicomweb/wado/<rendered|thumbnail>/<level>/<media>``, ``dicomweb/wado/not-found``,
  ``dicomweb/wado/not-acceptable`` (PS3.18 10.4, 8.6.3, 8.7);
- ``dicomweb/wado-uri/<media>`` (PS3.18 9);
- ``dicomweb/capabilities`` (PS3.18 8.9);
- ``dicomweb/agree/...``: the web and DIMSE faces of the device agree (see
  :mod:`conformance.dicomweb.agree`);
- ``dicomweb/character-set/<term>``: a patient name in that repertoire survives STOW-RS,
  QIDO-RS and WADO-RS metadata.

The origin server's address and credentials come at run time (``--dicomweb-url``,
``--dicomweb-token``; see :mod:`conformance.dicomweb.client`).
"""

from __future__ import annotations

from conformance.dicomweb import agree, capabilities, qido, stow, wado
from conformance.engine.model import Step, StepResult
from conformance.families.registry import planner
from conformance.standard import uids
from conformance.statement.model import Role, Statement

#: Wall-clock bound of one web step: its requests are bounded too (timeout per exchange).
STEP_LIMIT = 300.0


def _slug(media: str) -> str:
    return media.replace("/", "-").replace("+", "-")


def _not_yet(what: str) -> object:
    """A declared claim the family cannot check yet: said in the report, never passed."""
    def action(_ctx: object) -> StepResult:
        return StepResult.skipped(f"not tested yet: {what}")
    return action


@planner("dicomweb", family="dicomweb", order=100)
def plan(statement: Statement) -> list[Step]:
    """The dicomweb steps a statement implies, in run order."""
    web = statement.dicomweb
    if web is None or web.role != "origin-server":
        return []               # a user agent's needs are compared, not tested
    steps: list[Step] = []

    def add(sid: str, title: str, ref: str, action: object) -> None:
        steps.append(Step(f"dicomweb/{sid}", title, ref, action=action,  # type: ignore[arg-type]
                          time_limit=STEP_LIMIT))

    if web.stow_rs is not None:
        classes = list(web.stow_rs.sop_classes) or [
            c.sop_class for c in statement.capabilities(Role.SCP)
            if c.sop_class in set(uids.storage_sop_classes().values())]
        for sop in classes:
            add(f"stow/{uids.keyword_of(sop)}", f"STOW-RS of {uids.name_of(sop)}",
                "PS3.18 10.5", stow.store_class(sop))
        for media in web.stow_rs.request_media_types:
            if media != "application/dicom":
                add(f"stow/request/{_slug(media)}", f"STOW-RS with {media} metadata and bulk data",
                    "PS3.18 10.5.2", _not_yet(f"STOW-RS requests in {media} (metadata + bulk data)"))
        if "application/dicom+xml" in web.stow_rs.response_media_types:
            add("stow/response/application-dicom-xml", "STOW-RS response as application/dicom+xml",
                "PS3.18 10.5.3", _not_yet("STOW-RS responses as application/dicom+xml"))
        add("stow/study-mismatch", "STOW-RS refuses an instance of another study than the URL's",
            "PS3.18 10.5.1; 10.5.3", stow.study_mismatch)
    if web.qido_rs is not None:
        q = web.qido_rs
        for level in q.levels:
            add(f"qido/{level}", f"QIDO-RS at {level} level by unique key", "PS3.18 10.6",
                qido.level(level))
        for kind in q.matching:
            add(f"qido/match/{kind}", f"QIDO-RS {kind} matching", "PS3.18 8.3.4; PS3.4 C.2.2.2",
                qido.matching(kind))
        if q.includefield:
            add("qido/includefield", "QIDO-RS includefield returns the attribute asked for",
                "PS3.18 8.3.4.3", qido.includefield(False))
        if q.includefield_all:
            add("qido/includefield-all", "QIDO-RS includefield=all", "PS3.18 8.3.4.3",
                qido.includefield(True))
        if q.paging:
            add("qido/paging", "QIDO-RS limit and offset page the results", "PS3.18 8.3.4.4",
                qido.paging)
        if "application/dicom+xml" in q.response_media_types:
            add("qido/response/application-dicom-xml", "QIDO-RS results as application/dicom+xml",
                "PS3.18 10.6.3", _not_yet("QIDO-RS results as application/dicom+xml"))
        add("qido/bad-query", "QIDO-RS answers an invalid query 400", "PS3.18 8.3.4.4; 8.6.3",
            qido.bad_query)
    if web.wado_rs is not None:
        res = web.wado_rs.resources
        if "instances" in res:
            for ts in res["instances"].transfer_syntaxes or ("*",):
                label = "as-stored" if ts == "*" else uids.keyword_of(ts)
                add(f"wado/instances/{label}", f"WADO-RS instance in {label}, compared with what "
                    "was stored", "PS3.18 10.4.1.1.1; 8.7.3.5.2; PS3.4 B.4.1", wado.instances(ts))
            add("wado/study", "WADO-RS study: every stored instance", "PS3.18 10.4.1.1.1", wado.study)
        if "metadata" in res:
            add("wado/metadata", "WADO-RS metadata: JSON model, equal to what was stored",
                "PS3.18 10.4.1.1.2; F.2", wado.metadata)
            if "application/dicom+xml" in res["metadata"].media_types:
                add("wado/metadata/application-dicom-xml", "WADO-RS metadata as application/dicom+xml",
                    "PS3.18 10.4.1.1.2; PS3.19 A.1", _not_yet("metadata as application/dicom+xml"))
        for media in res["frames"].media_types if "frames" in res else ():
            add(f"wado/frames/{_slug(media)}", f"WADO-RS frame as {media}", "PS3.18 10.4.1.1.4; 8.7.3",
                wado.frames(media))
        if "bulkdata" in res:
            add("wado/bulkdata", "WADO-RS bulk data of Pixel Data", "PS3.18 10.4.1.1.5", wado.bulkdata)
        for kind in ("rendered", "thumbnail"):
            if kind in res:
                for level in res[kind].levels or ("instance",):
                    for media in res[kind].media_types:
                        add(f"wado/{kind}/{level}/{_slug(media)}", f"WADO-RS {kind} {level} as {media}",
                            "PS3.18 10.4.1.1.3; 8.7.4", wado.rendered(level, media, kind))
        add("wado/not-found", "WADO-RS answers an unknown study 404", "PS3.18 8.6.3", wado.not_found)
        if "metadata" in res:
            add("wado/not-acceptable", "WADO-RS answers an undeclared media type 406",
                "PS3.18 8.7.5", wado.not_acceptable)
    if web.wado_uri is not None:
        for media in web.wado_uri.media_types:
            add(f"wado-uri/{_slug(media)}", f"WADO-URI as {media}", "PS3.18 9", wado.wado_uri(media))
    if web.qido_rs or web.wado_rs or web.stow_rs:
        add("capabilities", "Capabilities resource as the statement says", "PS3.18 8.9",
            capabilities.capabilities)
    steps += agree.steps(statement)
    return steps
