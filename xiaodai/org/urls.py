from django.urls import path

from xiaodai.org import views

app_name = "org"
urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/toggle/", views.staff_toggle, name="staff_toggle"),
]
