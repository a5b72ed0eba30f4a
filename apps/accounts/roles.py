"""The roles of the program. A role is a Django group of the same name, created by a migration."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", "Dispatcher / crisis call diversion"
    CLINICIAN = "clinician", "Clinician"
    CLINICAL_SUPERVISOR = "clinical_supervisor", "Clinical supervisor"
    OFFICER = "officer", "Officer (CIT)"
    CARE_NAVIGATOR = "care_navigator", "Care navigator"
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Analyst"
    ADMIN = "admin", "Administrator"


ALL_ROLES: frozenset[str] = frozenset(Role.values)
# Roles that use the Django admin (is_staff is derived from these, never typed in by hand).
STAFF_ROLES: frozenset[str] = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR, Role.ADMIN})
# Roles that ride on a co-response shift.
FIELD_ROLES: frozenset[str] = frozenset({Role.CLINICIAN, Role.OFFICER})
# Operational roles that see the live on-duty picture.
OPERATIONS_ROLES: frozenset[str] = frozenset(ALL_ROLES - {Role.ANALYST})
