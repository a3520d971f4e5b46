"""``python -m socle`` is the ``socle`` command."""

from socle.cli.main import run

run()
