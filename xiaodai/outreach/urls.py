from django.urls import path

from xiaodai.outreach import views

app_name = "outreach"
urlpatterns = [
    path("", views.today, name="today"),
    path("call/<int:pk>/", views.call, name="call"),
    path("call/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("rules/", views.contact_rules, name="rules"),
]
