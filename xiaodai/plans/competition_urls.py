"""Competition routes under /plans/competitions/ (劳动竞赛)."""

from django.urls import URLPattern, path

from xiaodai.plans import competition_views as v

urlpatterns: list[URLPattern] = [
    path("competitions/", v.competition_list, name="competitions"),
    path("competitions/new/", v.competition_create, name="competition_create"),
    path("competitions/<int:pk>/", v.competition_detail, name="competition"),
    path("competitions/<int:pk>/finalise/", v.competition_finalise, name="competition_finalise"),
]
