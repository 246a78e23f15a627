"""The JSON API under /api/v1/: OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs (served locally)."""

from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI

from xiaodai.allocation.api import router as allocation_router
from xiaodai.customers.api import router as customers_router
from xiaodai.org.api_auth import TokenAuth
from xiaodai.outreach.api import router as outreach_router
from xiaodai.scoring.api import router as scoring_router
from xiaodai.signals.api import router as signals_router

api = NinjaAPI(
    title="xiaodai API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_decorator=login_required,
)
api.add_router("/", customers_router)
api.add_router("/", scoring_router)
api.add_router("/", allocation_router)
api.add_router("/", outreach_router)
api.add_router("/", signals_router)
