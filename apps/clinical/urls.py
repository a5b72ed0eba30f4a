from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("clinical/persons/", apis.PersonListApi.as_view(), name="clinical-persons"),
    path("clinical/persons/<uuid:person_id>/", apis.PersonDetailApi.as_view(), name="clinical-person"),
    path("clinical/persons/<uuid:person_id>/merge/", apis.PersonMergeApi.as_view(), name="clinical-person-merge"),
    path("clinical/encounters/", apis.EncounterListApi.as_view(), name="clinical-encounters"),
    path("clinical/encounters/<uuid:encounter_id>/", apis.EncounterDetailApi.as_view(), name="clinical-encounter"),
    path("clinical/encounters/<uuid:encounter_id>/notes/", apis.EncounterNotesApi.as_view(), name="clinical-notes"),
    path(
        "clinical/encounters/<uuid:encounter_id>/screens/", apis.EncounterScreensApi.as_view(), name="clinical-screens"
    ),
    path(
        "clinical/encounters/<uuid:encounter_id>/safety-plans/",
        apis.EncounterSafetyPlansApi.as_view(),
        name="clinical-safety-plans",
    ),
    path(
        "clinical/encounters/<uuid:encounter_id>/dispositions/",
        apis.EncounterDispositionsApi.as_view(),
        name="clinical-dispositions",
    ),
    path("clinical/encounters/<uuid:encounter_id>/ivc/", apis.EncounterIvcApi.as_view(), name="clinical-ivc"),
    path(
        "clinical/encounters/<uuid:encounter_id>/officer-section/",
        apis.EncounterOfficerSectionApi.as_view(),
        name="clinical-officer-section",
    ),
    path(
        "clinical/encounters/<uuid:encounter_id>/break-glass/",
        apis.EncounterBreakGlassApi.as_view(),
        name="clinical-break-glass",
    ),
    path("clinical/exports/encounters/", apis.EncounterExportApi.as_view(), name="clinical-export-encounters"),
    path("clinical/notes/<uuid:note_id>/", apis.NoteDetailApi.as_view(), name="clinical-note"),
    path("clinical/notes/<uuid:note_id>/sign/", apis.NoteSignApi.as_view(), name="clinical-note-sign"),
    path("clinical/notes/<uuid:note_id>/cosign/", apis.NoteCosignApi.as_view(), name="clinical-note-cosign"),
    path("clinical/notes/<uuid:note_id>/addenda/", apis.NoteAddendaApi.as_view(), name="clinical-note-addenda"),
]
