from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api
from xiaodai.reports.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("xiaodai.customers.urls")),
    path("org/", include("xiaodai.org.urls")),
    path("audit/", include("xiaodai.audit.urls")),
    path("imports/", include("xiaodai.ingest.urls")),
    path("pools/", include("xiaodai.pools.urls")),
    path("pipeline/", include("xiaodai.pipeline.urls")),
    path("models/", include("xiaodai.scoring.urls")),
    path("allocation/", include("xiaodai.allocation.urls")),
    path("work/", include("xiaodai.outreach.urls")),
    path("scripts/", include("xiaodai.outreach.scripts_urls")),
    path("supervision/", include("xiaodai.outreach.supervision_urls")),
    path("capital-flow/", include("xiaodai.signals.urls")),
    path("performance/", include("xiaodai.reports.urls")),
    path("plans/", include("xiaodai.plans.urls")),
    path("api/v1/", api.urls),
]
