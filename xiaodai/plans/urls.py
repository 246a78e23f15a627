"""/plans/: plans and their targets, PDCA records, competitions, events held, refreshing the figures. Each
part keeps its routes beside its views."""

from django.urls import path

from xiaodai.plans import views
from xiaodai.plans.competition_urls import urlpatterns as competitions
from xiaodai.plans.event_urls import urlpatterns as events
from xiaodai.plans.pdca_urls import urlpatterns as pdca
from xiaodai.plans.target_urls import urlpatterns as targets

app_name = "plans"
urlpatterns = [
    *targets,
    *pdca,
    *competitions,
    *events,
    path("refresh/", views.refresh, name="refresh"),
]
