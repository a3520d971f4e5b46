"""Where the harness works and writes, shared by its commands."""

from __future__ import annotations

import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "bench" / ".work"
RESULTS = REPO / "bench" / "results"
# Machine-wide, not per checkout: runs share the cores, PostgreSQL and Redis.
LOCK = Path(tempfile.gettempdir()) / "socle-bench-gateway.lock"
