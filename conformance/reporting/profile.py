"""The site profile (``--site-profile``): the SOP classes and transfer syntaxes a site's own
devices use, so the summary says what matters for that site.

Two forms are read:

- a conformance statement (e.g. of the modality that will send to the device): every SOP
  class and transfer syntax of its ``transfer_capabilities``, whatever the role;
- a short YAML mapping::

      sop_classes: [CTImageStorage, MRImageStorage, 1.2.840.10008.5.1.4.1.2.2.1]
      transfer_syntaxes: [ExplicitVRLittleEndian, JPEG2000Lossless]

  (keywords or UIDs; either list may be left out, meaning "any").
"""

from __future__ import annotations

from pathlib import Path

from conformance.errors import InputError
from conformance.reporting.summary import SiteProfile
from conformance.standard import uids
from conformance.statement.loader import statement_from_document
from conformance.statement.yamlsource import SourceDocument, load_document


def _resolve(doc: SourceDocument, key: str, table: dict[str, str]) -> frozenset[str]:
    values = doc.data.get(key, [])
    if not isinstance(values, list):
        raise InputError(doc.problem((key,), f"'{key}' must be a list of keywords or UIDs"))
    out, problems = set(), []
    for n, value in enumerate(values):
        text = str(value)
        if text in table:
            out.add(table[text])
        elif uids.looks_like_uid(text):
            out.add(text)
        else:
            hint = uids.suggest(text, list(table))
            problems.append(doc.problem((key, n), f"unknown keyword {text!r}"
                                        + (f" (did you mean {hint}?)" if hint else "")))
    if problems:
        raise InputError(problems)
    return frozenset(out)


def load_site_profile(path: str | Path) -> SiteProfile:
    """Read a site profile; raises InputError (exit 2) with file, line and key on bad input."""
    doc = load_document(path)
    if isinstance(doc.data, dict) and "transfer_capabilities" in doc.data:
        statement = statement_from_document(doc)
        return SiteProfile(frozenset(c.sop_class for c in statement.transfer_capabilities),
                           frozenset(t for c in statement.transfer_capabilities for t in c.transfer_syntaxes),
                           str(path))
    if not isinstance(doc.data, dict) or not ({"sop_classes", "transfer_syntaxes"} & set(doc.data)):
        raise InputError(doc.problem((), "a site profile is a conformance statement or a mapping with "
                                     "'sop_classes' and/or 'transfer_syntaxes' lists"))
    return SiteProfile(_resolve(doc, "sop_classes", uids.sop_class_keywords()),
                       _resolve(doc, "transfer_syntaxes", uids.transfer_syntax_keywords()), str(path))
