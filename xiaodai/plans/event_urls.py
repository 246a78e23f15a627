"""Events held: the list in the viewer's scope and the form to record one."""

from django.urls import URLPattern, path

from xiaodai.plans import event_views

urlpatterns: list[URLPattern] = [
    path("events/", event_views.events, name="events"),
]
