"""Rows of the authorisation table for core/staffing/regulation.py: the ARS's and the CCS's regulation.

Reading a region (crisis state and history, missions, alerts): its ARS, the CCS, the ministry and admins; names of
the region's volunteers: never the ministry (pseudonymised data only). Acting on a region (crisis mode, manual
priority, push, verification): its ARS and the CCS; making a volunteer unavailable: those and admins (DESIGN §3);
alerting the CCS and assigning on behalf of an establishment: its ARS only; closing alerts and opening the
national pools: the CCS only.
"""

from __future__ import annotations

from core.staffing import regulation
from tests.services.authorisation.world import (
                                                NAME_READERS,
                                                NATIONAL,
                                                NOW,
                                                READERS,
                                                REGION,
                                                REGULATORS,
                                                Service,
                                                mission,
                                                professional,
)

CASES: dict[str, Service] = {
    "regulation.crisis_state": Service(
        lambda s, w, a: regulation.crisis_state(s, actor=a, ars_code=REGION), READERS,
        lambda s, w, r: r == regulation.CrisisState(False, ())),
    "regulation.set_crisis_mode": Service(
        lambda s, w, a: regulation.set_crisis_mode(s, actor=a, ars_code=REGION, enabled=True, now=NOW), REGULATORS,
        lambda s, w, r: r.all_professions and r.active),
    "regulation.crisis_history": Service(
        lambda s, w, a: regulation.crisis_history(s, actor=a, ars_code=REGION), READERS,
        lambda s, w, r: r == []),
    "regulation.region_missions": Service(
        lambda s, w, a: regulation.region_missions(s, actor=a, ars_code=REGION, now=NOW), READERS,
        lambda s, w, r: r.total == 2 and {row["id"] for row in r.rows} == {w.mission_id, w.other_mission_id}),
    "regulation.region_mission": Service(
        lambda s, w, a: regulation.region_mission(s, actor=a, ars_code=REGION, mission_id=w.mission_id, now=NOW),
        READERS,
        lambda s, w, r: r is not None and r["id"] == w.mission_id),
    "regulation.set_manual_priority": Service(
        lambda s, w, a: regulation.set_manual_priority(s, actor=a, mission_id=w.mission_id, priority=1, now=NOW),
        REGULATORS,
        lambda s, w, r: mission(s, w).manual_priority == 1),
    "regulation.push": Service(
        lambda s, w, a: regulation.push(s, actor=a, mission_id=w.mission_id, professional_ids=[w.professional_id],
                                        now=NOW), REGULATORS,
        lambda s, w, r: r == 1 and professional(s, w).status == "en_cours",
        "le coordinateur d'un pool territorial poussera vers les missions de son pool (issue 14)"),
    "regulation.alert_ccs": Service(
        lambda s, w, a: regulation.alert_ccs(s, actor=a, mission_id=w.mission_id, message="Toujours aucun candidat.",
                                             now=NOW), frozenset({"ars"}),
        lambda s, w, r: mission(s, w).ccs_alert_message == "Toujours aucun candidat."),
    "regulation.ccs_alerts": Service(
        lambda s, w, a: regulation.ccs_alerts(s, actor=a), NATIONAL,
        lambda s, w, r: [row["id"] for row in r] == [w.mission_id]),
    "regulation.close_alert": Service(
        lambda s, w, a: regulation.close_alert(s, actor=a, mission_id=w.mission_id, note="Traité par téléphone.",
                                               now=NOW), frozenset({"ccs"}),
        lambda s, w, r: mission(s, w).alert_close_note == "Traité par téléphone."),
    "regulation.alert_history": Service(
        lambda s, w, a: regulation.alert_history(s, actor=a, ars_code=REGION), READERS,
        lambda s, w, r: [(row["id"], row["state"]) for row in r] == [(w.mission_id, "waiting")]),
    "regulation.open_national_pools": Service(
        lambda s, w, a: regulation.open_national_pools(s, actor=a, mission_id=w.mission_id, now=NOW),
        frozenset({"ccs"}),
        lambda s, w, r: mission(s, w).pools_opened_at is not None),
    "regulation.region_professionals": Service(
        lambda s, w, a: regulation.region_professionals(s, actor=a, ars_code=REGION), NAME_READERS,
        lambda s, w, r: r[1] == 1 and r[0][0]["id"] == w.professional_id,
        "nominatif : jamais le ministère (données pseudonymisées)"),
    "regulation.set_verified": Service(
        lambda s, w, a: regulation.set_verified(s, actor=a, professional_id=w.professional_id, verified=True,
                                                now=NOW), REGULATORS,
        lambda s, w, r: professional(s, w).verified is True),
    "regulation.set_unavailable_by_ars": Service(
        lambda s, w, a: regulation.set_unavailable_by_ars(s, actor=a, professional_id=w.professional_id,
                                                          reason="Arrêt maladie", now=NOW), REGULATORS | {"admin"},
        lambda s, w, r: professional(s, w).status == "indisponible"),
    "regulation.assign_on_behalf": Service(
        lambda s, w, a: regulation.assign_on_behalf(s, actor=a, mission_id=w.mission_id,
                                                    professional_id=w.professional_id, now=NOW), frozenset({"ars"}),
        lambda s, w, r: professional(s, w).status == "affecte" and mission(s, w).status == "filled"),
}
