"""The Capabilities resource (PS3.18 8.9; 10.8 "Retrieve Capabilities Transaction"):
``OPTIONS`` on a service's base URL answers a description of the service (WADL,
``application/vnd.sun.wadl+xml``, or an OpenAPI/JSON document).

Declared served: 200 with a body naming the resources the statement declares (``studies``,
``series``, ``instances``, ``metadata``, ``frames``, ``rendered``...); each declared one
missing is a finding. Declared not served: a 200 answer with a description is a warning
(an undeclared capability), anything else passes. Not covered: validating the WADL schema.
"""

from __future__ import annotations

from conformance.dicomweb.common import endpoint, finding, section, transport_error
from conformance.engine.model import RunContext, StepResult
from conformance.findings import Finding, Severity

REF = "PS3.18 8.9; 10.8"
DESCRIPTION_TYPES = ("application/vnd.sun.wadl+xml", "application/xml", "application/json",
                     "application/dicom+json", "application/vnd.oai.openapi+json",
                     "application/openapi+json", "application/yaml", "text/xml")


def capabilities(ctx: RunContext) -> StepResult:
    """``dicomweb/capabilities``: OPTIONS {base URL} against the statement's claim."""
    web = section(ctx)
    key = next((k for k in ("wado_rs", "qido_rs", "stow_rs") if getattr(web, k) is not None), None)
    if key is None:
        return StepResult.skipped("not tested: no RESTful service is declared")
    got = endpoint(ctx, key)
    if isinstance(got, StepResult):
        return got
    run, _service, url = got
    what = f"OPTIONS {url} (Capabilities resource)"
    res = run.client.request("OPTIONS", url + "/", accept=", ".join(DESCRIPTION_TYPES[:2]))
    if res.error:
        return transport_error(res, what)
    served = res.status == 200 and len(res.body.strip()) > 0
    found: list[Finding] = []
    if web.capabilities and not served:
        found.append(finding("capabilities.not-served", Severity.ERROR,
                             f"{what}: HTTP {res.status} with {len(res.body)} bytes; the statement "
                             "declares the Capabilities resource.", f"{REF}; statement", res))
    elif not web.capabilities and served:
        found.append(finding("capabilities.undeclared", Severity.WARNING,
                             f"{what}: a {res.content_type or 'description'} is served, which the "
                             "statement does not declare.", f"{REF}; statement", res))
    elif served:
        text = res.body.decode("utf-8", "replace")
        wanted = ["studies"] if web.qido_rs or web.wado_rs else []
        if web.wado_rs:
            wanted += [r for r in web.wado_rs.resources if r not in ("instances", "bulkdata")]
        for name in wanted:
            if name not in text:
                found.append(finding("capabilities.resource-missing", Severity.ERROR,
                                     f"{what}: the description does not name the declared resource "
                                     f"{name!r}.", f"{REF}; statement", res))
    return StepResult(found, [res.observation(what, served=served)],
                      message=f"{what}: HTTP {res.status}")
