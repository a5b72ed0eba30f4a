from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import apis
from .cad import CadIncidentApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("incidents/", apis.IncidentListApi.as_view(), name="incident-list"),
    path("incidents/board/", apis.IncidentBoardApi.as_view(), name="incident-board"),
    path("incidents/closed/", apis.IncidentClosedListApi.as_view(), name="incident-closed"),
    path("incidents/<int:incident_id>/", apis.IncidentDetailApi.as_view(), name="incident-detail"),
    path("incidents/<int:incident_id>/triage/", apis.IncidentTriageApi.as_view(), name="incident-triage"),
    path(
        "incidents/<int:incident_id>/recommendations/",
        apis.IncidentRecommendationsApi.as_view(),
        name="incident-recommendations",
    ),
    path("incidents/<int:incident_id>/assignments/", apis.IncidentOfferApi.as_view(), name="incident-offer"),
    path("incidents/<int:incident_id>/reassign/", apis.IncidentReassignApi.as_view(), name="incident-reassign"),
    path("assignments/inbox/", apis.AssignmentInboxApi.as_view(), name="assignment-inbox"),
    path(
        "assignments/<int:assignment_id>/acknowledge/",
        apis.AssignmentAcknowledgeApi.as_view(),
        name="assignment-acknowledge",
    ),
    path("assignments/<int:assignment_id>/accept/", apis.AssignmentAcceptApi.as_view(), name="assignment-accept"),
    path("assignments/<int:assignment_id>/decline/", apis.AssignmentDeclineApi.as_view(), name="assignment-decline"),
    path("assignments/<int:assignment_id>/status/", apis.AssignmentStatusApi.as_view(), name="assignment-status"),
    path("assignments/<int:assignment_id>/cancel/", apis.AssignmentCancelApi.as_view(), name="assignment-cancel"),
    path("cad/incidents", CadIncidentApi.as_view(), name="cad-incidents"),
    # Teams on duty with their status (free for a call or not): a question about assignments.
    path("teams/on-duty/", apis.OnDutyApi.as_view(), name="teams-on-duty"),
]
