"""Customer portal URLs of escalations, under a case: /cases/<number>/escalate/ and
/cases/<number>/escalations/<id>/ (``escalations.links.escalation_path``). ``cases.urls``
includes them under the case's number, so their names are in the ``cases`` namespace."""

from django.urls import path

from escalations import views

urlpatterns = [
    path("escalate/", views.escalation_new, name="escalate"),
    path("escalations/<int:escalation_id>/", views.escalation_detail, name="escalation"),
    path(
        "escalations/<int:escalation_id>/messages/",
        views.escalation_message,
        name="escalation-message",
    ),
]
