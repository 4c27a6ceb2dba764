"""Load the standard's index once, before a worker pool forks (``warm_up``).

Validation builds IOD and module definitions lazily from the pinned index, per process, on
first use of each IOD (PS3.3 A tables -> :class:`~conformance.standard.iod_index.IODDef`),
together with the per-IOD tables derived from them (own tags of each optional module, type
overrides, tags of the IOD) and the data files of the IOD-specific rules and SR content items.
Called in the parent before ``fork``, the workers inherit the imports, the parsed index and the
data files (copy-on-write) instead of each loading them again.  IOD definitions stay lazy by
default: the index builds the rows nested in sequences only when a file holds the sequence,
so all 175 IODs build in about 15 ms (plus about 35 ms for their derived tables) and a worker
spends a few milliseconds on the ones its files use; ``all_iods=True`` (measured neutral on
the 246-file real corpus of ``bin/bench_validate.py``, 2 processes) suits long runs.

``conformance validate`` calls it before its pool starts; an archive runner (local processes or
a Dask worker's ``warm_up``) can call it the same way.
"""

from __future__ import annotations

import gc

from conformance.standard.iod_index import StandardIndex, load_index


def warm_up(index: StandardIndex | None = None, *, all_iods: bool = False,
            freeze: bool = True) -> StandardIndex:
    """Import the validator, load the index and the rule data files (and with *all_iods* build
    every IOD definition and its derived tables); returns the index.

    With *freeze* (default) the objects built so far are moved out of the garbage collector's
    reach (:func:`gc.freeze`), so forked workers do not touch, and so copy, those pages.
    """
    import codecs

    from pydicom.charset import python_encoding

    from conformance.iod import encoding  # noqa: F401  (the byte scan, imported on first use)
    from conformance.iod import modules, specialisations, sr_content
    from conformance.iod import raw_dataset  # noqa: F401  (the direct reader, idem)
    from conformance.iod import report  # noqa: F401  (the workers render their report parts)
    from conformance.iod import validator  # noqa: F401  (imports pydicom's reader and more)

    for name in set(python_encoding.values()):  # every codec a Specific Character Set names
        try:  # (about 8 ms here, instead of in each worker that meets a Japanese file)
            codecs.lookup(name)
        except LookupError:
            pass

    index = index or load_index()
    for key in index._raw_iods if all_iods else ():
        iod = index.iod(key)
        specialisations.type_overrides(iod)
        specialisations._iod_tags(iod)
        for use in iod.modules:
            if use.usage != "M":
                modules._own_tags(use.module, iod)
    specialisations._rules()
    sr_content._data()
    if freeze:
        gc.freeze()
    return index


#: Allocations between two young-generation collections in a validation worker (CPython's
#: default is 700).  Reading one file allocates tens of thousands of objects that die by
#: reference counting (pydicom's data sets hold no reference cycles of their own); a collection
#: every 700 of them costs 10-15% of a worker's CPU for nothing.  Collections still run, so
#: memory stays bounded.
GC_YOUNG = 50_000


def tune_worker() -> None:
    """Settings of a process that only validates files:

    * the young generation is collected every :data:`GC_YOUNG` allocations (see there);
    * pydicom's own check of each value it converts (``reading_validation_mode``, whose
      warnings :func:`~conformance.iod.validator.validate_file` discards: the element walk
      checks every value itself, PS3.5 6.2) is switched off, as pydicom offers "for
      performance reasons"; the values read are the same;
    * the values of defined-length sequences, which pydicom parses on first access, are
      parsed by the direct reader (:func:`~conformance.iod.raw_dataset.use_direct_sequences`;
      the same objects, and pydicom's own converter for what it declines);
    * the per-file time limit's signal handler stays installed
      (:func:`~conformance.iod.validator.keep_alarm_handler`), and Python's warnings stay
      ignored (:func:`~conformance.iod.validator.ignore_warnings`).
    """
    from pydicom import config

    from conformance.iod.raw_dataset import use_direct_sequences
    from conformance.iod.validator import ignore_warnings, keep_alarm_handler

    _young, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, older, oldest)
    config.settings.reading_validation_mode = config.IGNORE
    use_direct_sequences()
    keep_alarm_handler()
    ignore_warnings()
