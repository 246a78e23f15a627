from django.urls import path

from xiaodai.signals import views

app_name = "signals"
urlpatterns = [
    path("", views.flow, name="flow"),
    path("customers/", views.customers, name="customers"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/<slug:code>/", views.rule_edit, name="rule_edit"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
]
