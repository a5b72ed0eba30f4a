"""Clinical documentation: the person, the encounter and what clinicians and officers record.

Narrative, diagnoses, Part 2 (substance use) and safety-plan text are stored encrypted
(apps.core.crypto). Who may see what is decided in apps/clinical/policy.py, nowhere else.
Writes go through apps/clinical/services/; signed notes and the access log are append-only,
also in the database on PostgreSQL (triggers in migrations).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.crypto import EncryptedJSONField, EncryptedTextField


class Person(models.Model):
    """The person in crisis: one record across encounters. Merged duplicates point at the survivor."""

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        UNKNOWN = "unknown", "Unknown / not disclosed"

    class Veteran(models.TextChoices):
        YES = "yes", "Veteran"
        NO = "no", "Not a veteran"
        UNKNOWN = "unknown", "Unknown"

    class Housing(models.TextChoices):
        HOUSED = "housed", "Stably housed"
        UNSTABLE = "unstable", "Unstably housed"
        UNSHELTERED = "unsheltered", "Unsheltered"
        SHELTERED = "sheltered", "Sheltered (shelter / transitional)"
        UNKNOWN = "unknown", "Unknown"

    class PreferredContact(models.TextChoices):
        UNSTATED = "unstated", "Not stated"
        CALL = "call", "Phone call"
        TEXT = "text", "Text message"
        VISIT = "visit", "In person"

    class ContactConsent(models.TextChoices):
        UNKNOWN = "unknown", "Not asked yet"
        YES = "yes", "Agrees to be contacted"
        NO = "no", "Does not want to be contacted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.UNKNOWN)
    race = models.CharField(max_length=64, blank=True)
    ethnicity = models.CharField(max_length=64, blank=True)
    veteran_status = models.CharField(max_length=16, choices=Veteran.choices, default=Veteran.UNKNOWN)
    housing_status = models.CharField(max_length=16, choices=Housing.choices, default=Housing.UNKNOWN)
    preferred_language = models.CharField(max_length=64, blank=True)
    # Contact for care navigation (DOMAIN.md §5). The number identifies the person and is never
    # searched, so it is stored encrypted like clinical text (docs/privacy.md).
    phone = EncryptedTextField(blank=True, default="")
    preferred_contact = models.CharField(
        max_length=16, choices=PreferredContact.choices, default=PreferredContact.UNSTATED
    )
    contact_consent = models.CharField(max_length=8, choices=ContactConsent.choices, default=ContactConsent.UNKNOWN)
    # Lower-cased names and aliases, maintained by the services: the candidate filter of the search.
    search_name = models.CharField(max_length=2000, blank=True, editable=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from")
    merged_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"], name="person_name_idx")]

    def __str__(self) -> str:
        return self.display_name

    def refresh_search_name(self) -> None:
        names = [f"{self.first_name} {self.last_name}".strip(), *[str(a) for a in self.aliases]]
        self.search_name = " | ".join(n.lower() for n in names if n)[:2000]

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(unknown person)"


class PersonMerge(models.Model):
    """History of a merge: the duplicate's data as it was, so a mistaken merge can be understood."""

    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges")
    duplicate = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merged_away")
    reason = models.CharField(max_length=500)
    duplicate_snapshot = models.JSONField()
    moved = models.JSONField(default=dict)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.duplicate_id} → {self.survivor_id}"


class Encounter(models.Model):
    """One contact with a person: on an incident, a walk-in or a follow-up. Client-generated UUID."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", "Incident response"
        WALK_IN = "walk_in", "Walk-in"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Risk(models.TextChoices):
        NONE = "none", "None"
        LOW = "low", "Low"
        MODERATE = "moderate", "Moderate"
        HIGH = "high", "High"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The dispatch incident, when there is one (walk-ins and follow-ups stand alone).
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="encounters"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="encounters")
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The current C-SSRS result (latest screen, after any override): what the officer's flag reads.
    risk_level = models.CharField(max_length=16, choices=Risk.choices, blank=True)
    arrest_diverted = models.BooleanField(default=False)
    ed_diverted = models.BooleanField(default=False)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("started_at")),
                name="encounter_closed_after_start",
            )
        ]
        # Encounters of a period (program insight's counts and drill-downs; apps/insights).
        indexes = [models.Index(fields=["started_at"], name="encounter_started_idx")]

    def __str__(self) -> str:
        return f"Encounter {self.id} ({self.get_kind_display()})"

    @property
    def is_high_risk(self) -> bool:
        return self.risk_level == self.Risk.HIGH


class ClinicalNote(models.Model):
    """The clinician's note. Draft until signed; then locked forever (addenda only)."""

    class Format(models.TextChoices):
        SOAP = "soap", "SOAP"
        DAP = "dap", "DAP"
        BIRP = "birp", "BIRP"
        CRISIS = "crisis_assessment", "Crisis assessment"
        FOLLOW_UP = "follow_up_contact", "Follow-up contact"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)  # generated by the phone
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="notes")
    format = models.CharField(max_length=24, choices=Format.choices)
    sections = EncryptedJSONField(default=dict)  # narrative, by section of the format
    diagnoses = EncryptedJSONField(default=list)
    medications = EncryptedJSONField(default=list)
    # 42 CFR Part 2: substance-use content, segregated and labelled; never leaves clinical roles.
    substance_use = EncryptedTextField(blank=True, default="")
    safety_precautions = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(default=1)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="note_signed_has_signer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} note {self.id} ({self.status})"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class Addendum(models.Model):
    """Append-only correction to a signed note."""

    class Kind(models.TextChoices):
        ADDENDUM = "addendum", "Addendum"
        CORRECTION = "correction", "Correction"
        LATE_ENTRY = "late_entry", "Late entry"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="addenda")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    text = EncryptedTextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.note_id}"


class CssrsScreen(models.Model):
    """One C-SSRS screener, as answered; never edited (a new screen supersedes it)."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="screens")
    q1_wish_dead = models.BooleanField()
    q2_active_thoughts = models.BooleanField()
    q3_method = models.BooleanField(null=True)
    q4_intent = models.BooleanField(null=True)
    q5_plan = models.BooleanField(null=True)
    q6_behavior = models.BooleanField()
    q6a_past_3_months = models.BooleanField(null=True)
    computed_risk = models.CharField(max_length=16, choices=Encounter.Risk.choices)
    rule_version = models.CharField(max_length=32)
    override_risk = models.CharField(max_length=16, choices=Encounter.Risk.choices, blank=True)
    override_reason = models.CharField(max_length=500, blank=True)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["screened_at", "id"]

    def __str__(self) -> str:
        return f"C-SSRS {self.final_risk} ({self.screened_at:%Y-%m-%d})"

    @property
    def final_risk(self) -> str:
        return self.override_risk or self.computed_risk


class SafetyPlan(models.Model):
    """Stanley–Brown safety plan. The newest active plan of a person is the one shown."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="safety_plans")
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="safety_plans")
    warning_signs = EncryptedTextField(blank=True, default="")
    internal_coping = EncryptedTextField(blank=True, default="")
    distraction_people_places = EncryptedTextField(blank=True, default="")
    help_contacts = EncryptedTextField(blank=True, default="")
    professionals_agencies = EncryptedTextField(blank=True, default="")
    environment_safety = EncryptedTextField(blank=True, default="")
    lethal_means_counselling_done = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Safety plan {self.id}"


class Disposition(models.Model):
    """An outcome of the encounter (several allowed), with its APCO common code."""

    class Code(models.TextChoices):
        RESOLVED_ON_SCENE = "resolved_on_scene", "Resolved on scene"
        RESOLVED_WITH_REFERRAL = "resolved_with_referral", "Resolved with referral"
        SAFETY_PLAN_ONLY = "safety_plan_only", "Safety plan only"
        # Program codes shared with the incidents app's DispositionCode table (admin-editable APCO map).
        VOLUNTARY_CRISIS_FACILITY = "transport_crisis_facility", "Voluntary transport to crisis facility"
        VOLUNTARY_ED = "transport_ed", "Voluntary transport to ED"
        EMS_TRANSPORT = "ems_transport", "EMS transport"
        IVC_INITIATED = "ivc_initiated", "Involuntary commitment initiated"
        ARREST = "arrest", "Arrest"
        CITATION = "citation", "Citation"
        JAIL_BOOKING = "jail_booking", "Jail booking"
        REFUSED = "refused_services", "Refused services"
        UNABLE_TO_LOCATE = "unable_to_locate", "Unable to locate"
        CANCELLED = "cancelled", "Cancelled"
        TRANSFERRED_988 = "transferred_988", "Transferred to 988 / mobile crisis"

    # DOMAIN.md §4: program code → APCO common disposition code ("" where APCO has none).
    APCO: dict[str, str] = {
        "resolved_on_scene": "18",
        "resolved_with_referral": "15",
        "safety_plan_only": "",
        "transport_crisis_facility": "16",
        "transport_ed": "16",
        "ems_transport": "45",
        "ivc_initiated": "",
        "arrest": "03",
        "citation": "04",
        "jail_booking": "",
        "refused_services": "42",
        "unable_to_locate": "14",
        "cancelled": "21",
        "transferred_988": "15",
    }

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="dispositions")
    code = models.CharField(max_length=32, choices=Code.choices)
    apco_code = models.CharField(max_length=4, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["encounter", "code"], name="disposition_once_per_encounter")]

    def __str__(self) -> str:
        return self.get_code_display()


class IvcRecord(models.Model):
    """NC involuntary commitment on this encounter (G.S. 122C)."""

    class Pathway(models.TextChoices):
        PETITION = "petition_122c_261", "Petition to magistrate (G.S. 122C-261)"
        EMERGENCY_CERTIFICATE = "emergency_122c_262", "Clinician emergency certificate (G.S. 122C-262)"
        VIOLENT = "violent_122c_282", "Violent person (G.S. 122C-282)"
        SUBSTANCE_USE = "substance_122c_281", "Substance use (G.S. 122C-281)"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        COMMITTED = "committed", "Committed (inpatient)"
        OUTPATIENT = "outpatient", "Outpatient commitment"
        RELEASED = "released", "Released after examination"
        DENIED = "petition_denied", "Petition denied"
        CUSTODY_NOT_TAKEN = "custody_not_taken", "Custody order expired, not served"

    encounter = models.OneToOneField(Encounter, on_delete=models.PROTECT, related_name="ivc")
    pathway = models.CharField(max_length=24, choices=Pathway.choices)
    petitioner_name = models.CharField(max_length=200, blank=True)
    petitioner_relationship = models.CharField(max_length=100, blank=True)
    petition_at = models.DateTimeField(null=True, blank=True)
    custody_order_at = models.DateTimeField(null=True, blank=True)
    custody_taken_at = models.DateTimeField(null=True, blank=True)
    first_exam_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, default=Outcome.PENDING)
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "IVC record"

    def __str__(self) -> str:
        return f"IVC {self.get_pathway_display()}"

    @property
    def custody_deadline(self) -> dt.datetime | None:
        return self.custody_order_at + dt.timedelta(hours=24) if self.custody_order_at else None


class OfficerSection(models.Model):
    """The police side of the encounter, written by the officer. Holds no clinical content."""

    class PoliceAction(models.TextChoices):
        NONE = "none", "None"
        ARREST = "arrest", "Arrest"
        CITATION = "citation", "Citation"

    class Transport(models.TextChoices):
        NONE = "none", "None"
        POLICE = "police", "Police vehicle"
        EMS = "ems", "EMS"
        TEAM = "team", "Co-response team vehicle"
        OTHER = "other", "Other"

    encounter = models.OneToOneField(Encounter, on_delete=models.PROTECT, related_name="officer_section")
    police_action = models.CharField(max_length=16, choices=PoliceAction.choices, default=PoliceAction.NONE)
    use_of_force = models.BooleanField(default=False)
    use_of_force_description = models.TextField(blank=True, max_length=4000)
    subject_injured = models.BooleanField(default=False)
    officer_injured = models.BooleanField(default=False)
    injuries_description = models.TextField(blank=True, max_length=4000)
    transport = models.CharField(max_length=16, choices=Transport.choices, default=Transport.NONE)
    transport_destination = models.CharField(max_length=200, blank=True)
    ivc_custody = models.BooleanField(default=False)
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Officer section of {self.encounter_id}"


class BreakGlass(models.Model):
    """Emergency access to one encounter outside the user's normal scope: time-limited, reviewed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.CharField(max_length=500)
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = "break-glass access"
        verbose_name_plural = "break-glass accesses"

    def __str__(self) -> str:
        return f"Break-glass by {self.user_id} on {self.encounter_id}"

    def is_active(self, at: dt.datetime) -> bool:
        return self.opened_at <= at < self.expires_at


class AccessLog(models.Model):
    """Who touched which clinical record, what category, when and from where. Append-only."""

    class Action(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        SIGN = "sign", "Sign"
        COSIGN = "cosign", "Co-sign"
        EXPORT = "export", "Export"
        BREAK_GLASS = "break_glass", "Break-glass"
        MERGE = "merge", "Merge"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    roles = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    record_type = models.CharField(max_length=32)
    record_id = models.CharField(max_length=64)
    encounter_id = models.UUIDField(null=True, blank=True, db_index=True)
    person_id = models.UUIDField(null=True, blank=True, db_index=True)
    categories = models.CharField(max_length=200, blank=True)
    break_glass = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "clinical access log entry"
        verbose_name_plural = "clinical access log"
        permissions = [("view_part2", "May read 42 CFR Part 2 (substance-use) content")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.record_type} {self.record_id}"
