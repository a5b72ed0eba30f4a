from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.Model):
    """A dispatchable unit with a call sign (e.g. "CR-1")."""

    class Kind(models.TextChoices):
        CO_RESPONSE = "co_response", "Co-response (clinician + officer)"
        COMMUNITY_RESPONSE = "community_response", "Community response (unarmed)"
        DIVERSION = "diversion", "Crisis call diversion (911 center)"
        CARE_NAVIGATION = "care_navigation", "Care navigation"

    call_sign = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.CO_RESPONSE)
    is_active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")

    class Meta:
        ordering = ["call_sign"]

    def __str__(self) -> str:
        return self.call_sign


class TeamMembership(models.Model):
    """Who belongs to a team, and in which role (a clinician rides as clinician, an officer as officer)."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        OFFICER = "officer", "Officer"
        OTHER = "other", "Other (peer, trainee)"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")]
        ordering = ["team", "role", "user"]

    def __str__(self) -> str:
        return f"{self.user} on {self.team} as {self.get_role_display()}"
