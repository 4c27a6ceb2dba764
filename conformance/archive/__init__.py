"""Archive-scale IOD validation: millions of files, local processes or a Dask cluster.

One job per module:

- :mod:`.listing`: the files to validate, listed lazily (a folder tree, a list file, stdin);
- :mod:`.work`: the per-batch worker (one :func:`conformance.iod.validator.validate_file` per
  file), returning JSON lines, so results cross process and network boundaries as one string;
- :mod:`.schedulers`: where batches run (in this process, local processes, Dask distributed),
  always with a bounded number of batches in flight, so memory stays flat in the file count;
- :mod:`.store`: the JSONL results file, appended as results come; re-reading it resumes;
- :mod:`.aggregate`: the archive report, folded from the JSONL file in one streaming pass;
- :mod:`.render`: the report as HTML (the run report's look), JSON, JUnit and text;
- :mod:`.run`: the orchestration used by ``conformance validate`` in archive mode.
"""
