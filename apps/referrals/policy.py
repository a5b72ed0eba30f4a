"""The follow-up policy (DOMAIN.md §5, configurable through ``settings.REFERRALS_FOLLOWUP_POLICY``).

``followup_rules`` answers "which follow-up tasks does this encounter (and referral) call for?" as a
list of ``Rule``; the services create the missing ones. Each rule has a stable key, so applying the
policy again (a retried request, the sweep) never creates a second task.

Who may *see* a referral or follow-up is not decided here: that is the clinical policy
(apps/clinical/policy.py), reused by apps/referrals/selectors.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.accounts.roles import Role
from apps.clinical.models import Disposition, Encounter, IvcRecord

from .models import FollowUp, Referral

# Dispositions that count as "an ED transport" for the linkage checks.
ED_TRANSPORT_CODES = frozenset({Disposition.Code.VOLUNTARY_ED, Disposition.Code.EMS_TRANSPORT})

# Roles whose content view includes referral details and follow-up notes (clinical-ish data).
DETAIL_ROLES = frozenset({Role.CLINICIAN, Role.CARE_NAVIGATOR, Role.CLINICAL_SUPERVISOR})
# Roles that create referrals and work follow-ups.
WRITER_ROLES = DETAIL_ROLES
# Roles that see the follow-up queue (supervisors without clinical details).
QUEUE_ROLES = DETAIL_ROLES | {Role.SUPERVISOR}
# Roles that reassign follow-ups and see the program-wide overdue view.
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
# Who may be assigned a follow-up.
ASSIGNABLE_ROLES = frozenset({Role.CARE_NAVIGATOR, Role.CLINICIAN})


def policy() -> dict[str, Any]:
    return dict(settings.REFERRALS_FOLLOWUP_POLICY)


@dataclass(frozen=True)
class Rule:
    key: str
    reason: str
    due_at: dt.datetime
    referral: Referral | None = None


def followup_rules(encounter: Encounter, referral: Referral | None = None) -> list[Rule]:
    conf = policy()
    rules: list[Rule] = []
    if referral is not None:
        rules.append(
            Rule(
                key=f"referral:{referral.pk}",
                reason=FollowUp.Reason.REFERRAL,
                due_at=referral.made_at + dt.timedelta(hours=float(conf["referral_contact_hours"])),
                referral=referral,
            )
        )
    if encounter.risk_level == Encounter.Risk.HIGH:
        rules.append(
            Rule(
                key=f"encounter:{encounter.pk}:high_risk",
                reason=FollowUp.Reason.HIGH_RISK,
                due_at=encounter.started_at + dt.timedelta(hours=float(conf["high_risk_contact_hours"])),
            )
        )
    ivc = IvcRecord.objects.filter(encounter=encounter, outcome=IvcRecord.Outcome.RELEASED).first()
    if ivc is not None:
        released_at = ivc.updated_at
        rules.append(
            Rule(
                key=f"encounter:{encounter.pk}:ivc_released",
                reason=FollowUp.Reason.IVC_RELEASED,
                due_at=released_at + dt.timedelta(hours=float(conf["ivc_released_contact_hours"])),
            )
        )
    transport = (
        Disposition.objects.filter(encounter=encounter, code__in=ED_TRANSPORT_CODES).order_by("recorded_at").first()
    )
    if transport is not None:
        for days in conf["ed_linkage_check_days"]:
            rules.append(
                Rule(
                    key=f"encounter:{encounter.pk}:ed_linkage:{int(days)}",
                    reason=FollowUp.Reason.ED_LINKAGE,
                    due_at=transport.recorded_at + dt.timedelta(days=int(days)),
                )
            )
    return rules
