from django.urls import URLPattern, path

from xiaodai.outreach import supervision_views as views

app_name = "supervision"
urlpatterns: list[URLPattern] = [
    path("", views.board, name="board"),
    path("objections/", views.objections, name="objections"),
    path("lift/", views.lift, name="lift"),
    path("planner/", views.planner, name="planner"),
]
