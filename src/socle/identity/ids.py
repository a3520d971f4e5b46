"""Readable, random identifiers: ``org_…``, ``team_…``, ``proj_…``, ``user_…``, ``key_…``."""

from __future__ import annotations

import secrets


def new_id(kind: str) -> str:
    return f"{kind}_{secrets.token_hex(8)}"
