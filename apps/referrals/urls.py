from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("agencies/", apis.AgencyListApi.as_view(), name="referrals-agencies"),
    path("referrals/", apis.ReferralListApi.as_view(), name="referrals"),
    path("referrals/<uuid:referral_id>/", apis.ReferralDetailApi.as_view(), name="referral"),
    path("referrals/<uuid:referral_id>/status/", apis.ReferralStatusApi.as_view(), name="referral-status"),
    path(
        "encounters/<uuid:encounter_id>/referrals/",
        apis.EncounterReferralsApi.as_view(),
        name="encounter-referrals",
    ),
    path("followups/", apis.FollowUpListApi.as_view(), name="followups"),
    path("followups/overdue/", apis.FollowUpOverdueApi.as_view(), name="followups-overdue"),
    path("followups/<int:followup_id>/", apis.FollowUpDetailApi.as_view(), name="followup"),
    path("followups/<int:followup_id>/attempts/", apis.FollowUpAttemptsApi.as_view(), name="followup-attempts"),
    path("followups/<int:followup_id>/reassign/", apis.FollowUpReassignApi.as_view(), name="followup-reassign"),
    path("followups/<int:followup_id>/close/", apis.FollowUpCloseApi.as_view(), name="followup-close"),
]
