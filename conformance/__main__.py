"""``python -m conformance``: same as the ``conformance`` command."""

from conformance.cli.main import main

main()
