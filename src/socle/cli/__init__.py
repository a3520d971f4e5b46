"""The ``socle`` command line."""
