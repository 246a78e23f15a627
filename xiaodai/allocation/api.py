"""The allocation JSON API under /api/v1/ (token auth, scoped like the pages)."""

from ninja import Router

router = Router(tags=["allocation"])
