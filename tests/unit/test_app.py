"""Process-level settings the application applies at startup."""

from __future__ import annotations

import gc

from socle.app import freeze_startup_heap


def test_startup_objects_are_frozen_out_of_full_collections() -> None:
    gc.unfreeze()
    survivor = [object() for _ in range(1000)]  # lives as long as the "process"
    try:
        freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen >= len(survivor)
        # A later full collection no longer walks them, but they stay alive and reachable.
        gc.collect()
        assert gc.get_freeze_count() == frozen
        assert len(survivor) == 1000
    finally:
        gc.unfreeze()
