from django.urls import path

from xiaodai.pipeline import views

app_name = "pipeline"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("run/", views.run_start, name="run"),
    path("<int:pk>/", views.run_detail, name="detail"),
    path("<int:pk>/progress/", views.run_progress, name="progress"),
]
