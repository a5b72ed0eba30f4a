"""The demo seed's incidents: one closed, one on scene, one offered to CR-1; seeding twice adds none."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command
from django.test import override_settings

from apps.incidents.models import Assignment, Incident


@override_settings(DEMO_MODE=True)
def test_seed_makes_three_demo_incidents_once(db: object) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 12, tzinfo=ZoneInfo("America/New_York")), tick=False):
        call_command("seed_demo", stdout=StringIO())
        out = StringIO()
        call_command("seed_demo", stdout=out)
    assert "Demo incidents: 0 new." in out.getvalue()
    by_number = {i.cad_number: i for i in Incident.objects.filter(cad_source="demo")}
    assert {n: i.status for n, i in by_number.items()} == {
        "DEMO-0001": "Closed",
        "DEMO-0002": "ResourcesOnscene",
        "DEMO-0003": "Active",
    }
    offered = Assignment.objects.select_related("team").get(incident=by_number["DEMO-0003"])
    assert (offered.team.call_sign, offered.status) == ("CR-1", "offered")
    on_scene = Assignment.objects.select_related("team").get(incident=by_number["DEMO-0002"])
    assert on_scene.status == "on_scene" and on_scene.team.call_sign != "CR-1"
