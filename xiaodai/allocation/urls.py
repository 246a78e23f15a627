from django.urls import path

from xiaodai.allocation import views

app_name = "allocation"
urlpatterns = [
    path("", views.allocate, name="allocate"),
    path("claim/", views.claimable, name="claimable"),
    path("claim/submit/", views.claim, name="claim"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/release/", views.release, name="release"),
    path("<int:pk>/handoff/", views.handoff, name="handoff"),
    path("handoff/channel/", views.handoff_channel, name="handoff_channel"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("settings/", views.settings, name="settings"),
]
