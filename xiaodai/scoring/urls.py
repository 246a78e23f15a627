from django.urls import path

from xiaodai.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.registry, name="registry"),
    path("retrain/", views.retrain, name="retrain"),
    path("runs/", views.runs, name="runs"),
    path("<int:pk>/", views.model_card, name="card"),
]
