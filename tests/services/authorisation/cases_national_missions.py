"""Rows of the authorisation table for core/figures/national_missions.py: « Missions nationales » (issue 13).

The national list of missions, its drill-down levels and a mission's detail: the national roles (CCS, ministry,
admin) — never an ARS (its region's queue is « Missions de la région »). The ministry reads a mission without its
contact's name and phone (pseudonymised data, DESIGN §4).
"""

from __future__ import annotations

from core.figures import national_missions
from tests.services.authorisation.world import NATIONAL, NOW, REGION, Service

CASES: dict[str, Service] = {
    "national_missions.national_missions": Service(
        lambda s, w, a: national_missions.national_missions(s, actor=a, now=NOW), NATIONAL,
        lambda s, w, r: r.total == 2 and {row["id"] for row in r.rows} == {w.mission_id, w.other_mission_id}),
    "national_missions.national_breakdown": Service(
        lambda s, w, a: national_missions.national_breakdown(s, actor=a, level="region", now=NOW), NATIONAL,
        lambda s, w, r: [(row["code"], row["missions"], row["alerts"]) for row in r.rows if row["missions"]]
        == [(REGION, 2, 1)]),
    "national_missions.national_mission": Service(
        lambda s, w, a: national_missions.national_mission(s, actor=a, mission_id=w.mission_id, now=NOW), NATIONAL,
        lambda s, w, r: r["id"] == w.mission_id and r["open_alert"],
        "sans le nom ni le téléphone du contact pour le ministère"),
}
