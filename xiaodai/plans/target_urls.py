"""Routes of the plans and targets pages (composed into /plans/ by urls.py)."""

from django.urls import URLPattern, path

from xiaodai.plans import target_views as v

urlpatterns: list[URLPattern] = [
    path("", v.plan_list, name="list"),
    path("new/", v.plan_create, name="create"),
    path("<int:pk>/", v.plan_detail, name="detail"),
    path("<int:pk>/targets/new/", v.target_set, name="target_set"),
    path("targets/<int:pk>/split/", v.target_split, name="target_split"),
]
