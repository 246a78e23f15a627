from django.urls import path

from xiaodai.ingest import views

app_name = "ingest"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("upload/", views.run_upload, name="upload"),
    path("feeds/", views.feed_list, name="feeds"),
    path("<int:pk>/", views.run_detail, name="detail"),
    path("<int:pk>/progress/", views.run_progress, name="progress"),
    path("<int:pk>/errors.csv", views.run_errors_csv, name="errors"),
    path("<int:pk>/rollback/", views.run_rollback, name="rollback"),
]
