from django.urls import path

from xiaodai.pools import views

app_name = "pools"
urlpatterns = [
    path("", views.inventory, name="inventory"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/<slug:code>/", views.rule_edit, name="rule_edit"),
    path("<slug:code>/", views.members, name="members"),
    path("<slug:code>/export.xlsx", views.members_export, name="export"),
]
