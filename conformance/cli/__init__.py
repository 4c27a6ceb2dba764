"""The command-line face: thin commands over the engine, the statement loader and the reports."""
