"""PDCA routes under /plans/: write a finding, make an adjustment (the cycle shows on the plan page)."""

from django.urls import URLPattern, path

from xiaodai.plans import pdca_views as v

urlpatterns: list[URLPattern] = [
    path("<int:pk>/findings/new/", v.finding_add, name="finding_add"),
    path("<int:pk>/adjustments/new/", v.adjustment_add, name="adjustment_add"),
    path("<int:pk>/deviations/", v.deviations, name="deviations"),
]
