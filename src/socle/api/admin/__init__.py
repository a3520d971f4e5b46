"""The admin API under /admin/v1, protected by role (deny by default)."""

from __future__ import annotations

from fastapi import APIRouter

from socle.api.admin import governance, identity, routing

router = APIRouter(prefix="/admin/v1", tags=["Admin"])
router.include_router(identity.router)
router.include_router(routing.router)
router.include_router(governance.router)
