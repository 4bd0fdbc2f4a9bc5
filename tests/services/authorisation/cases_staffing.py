"""Rows of the authorisation table for core/staffing: missions, workflow, matching and archive.

An establishment's missions are read (the establishment, its list and dashboard) by its own accounts, the ARS of
its region and the national roles (CCS, ministry, admins), never by another establishment, even of the same
region; its assigned staff (names and contacts) by its own accounts and the name readers (its ARS, the CCS,
admins), never the ministry (pseudonymised data only). Every signed-in account lists the establishments it
manages (none for the other roles). Filing, reading for edit, editing and duplicating a need, and contacting,
validating and refusing volunteers belong to the accounts of the mission's establishment alone (the regulators
push instead, see regulation.push); closing a mission and cancelling an assignment to its establishment, the ARS
of its region and the CCS. A volunteer withdraws from their own proposal only. Candidates are searched by the
mission's establishment (« Choisir ») and by the ARS of its region and the CCS (« Proposer »), not by the
ministry nor admins. Finished missions are listed, archived and restored by admins only (DESIGN §2).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser
from core.staffing import archive, matching, missions, workflow
from db import models as m
from tests.services.authorisation.world import (
    END,
    NAME_READERS,
    NOW,
    READERS,
    REGION,
    REGULATORS,
    ROLES,
    SIGNED_OUT,
    START,
    Service,
    World,
    assigned,
    finished,
    last_action,
    mission,
    professional,
    proposal,
)

MEMBER = frozenset({"etablissement"})  # the accounts of the mission's establishment
MANAGERS = MEMBER | REGULATORS  # its establishment, the ARS of its region, the CCS
ESTABLISHMENT_READERS = MEMBER | READERS
ADMIN = frozenset({"admin"})
SIGNED_IN = frozenset(ROLES) - SIGNED_OUT


def _need(count: int = 2) -> missions.MissionInput:
    return missions.MissionInput(profession_code="infirmier_de", count=count, start_date=START, end_date=END)


def _managed(session: so.Session, world: World, answer: tuple[SessionUser, dict[int, str]]) -> bool:
    """my_establishments gave the actor's own establishments and nothing else: the world says which they are."""
    actor, result = answer
    expected = {world.user_ids["etablissement"]: [world.establishment_id],
                world.user_ids["etablissement_autre"]: [world.other_establishment_id]}.get(actor.id, [])
    return result == {i: session.get(m.Establishment, i).name for i in expected}


def _mailed(session: so.Session, prefix: str) -> bool:
    """An e-mail of this kind (its dedup key's prefix) is waiting in the outbox."""
    return session.scalar(sa.select(sa.func.count()).select_from(m.Outbox)
                          .where(m.Outbox.dedup_key.like(f"{prefix}:%"))) >= 1


def _proposal_state(session: so.Session, proposal_id: int) -> Any:
    return session.get(m.Proposal, proposal_id, populate_existing=True).state


CASES: dict[str, Service] = {
    # ---- core/staffing/missions.py
    "missions.establishment_for": Service(
        lambda s, w, a: missions.establishment_for(s, actor=a, establishment_id=w.establishment_id),
        ESTABLISHMENT_READERS,
        lambda s, w, r: r.id == w.establishment_id,
        "ses comptes, l'ARS de sa région, les rôles nationaux ; jamais un autre établissement"),
    "missions.my_establishments": Service(
        lambda s, w, a: (a, missions.my_establishments(s, actor=a)), SIGNED_IN, _managed,
        "tout compte connecté : les établissements qu'il gère, et eux seuls (aucun pour les autres rôles)"),
    "missions.establishment_of_my_mission": Service(
        lambda s, w, a: (a, missions.establishment_of_my_mission(s, actor=a, mission_id=w.mission_id)), SIGNED_IN,
        lambda s, w, r: r[1] == (w.establishment_id if r[0].id == w.user_ids["etablissement"] else None),
        "tout compte connecté : l'établissement de la mission pour ses comptes, rien pour les autres"),
    "missions.establishment_missions": Service(
        lambda s, w, a: missions.establishment_missions(s, actor=a, establishment_id=w.establishment_id),
        ESTABLISHMENT_READERS,
        lambda s, w, r: [row["id"] for row in r] == [w.mission_id],
        "ses comptes, l'ARS de sa région, les rôles nationaux ; jamais un autre établissement"),
    "missions.create_missions": Service(
        lambda s, w, a: missions.create_missions(s, actor=a, establishment_id=w.establishment_id,
                                                 missions=[_need()], now=NOW), MEMBER,
        lambda s, w, r: len(r) == 1 and mission(s, w, r[0]).establishment_id == w.establishment_id
        and mission(s, w, r[0]).status == "open" and last_action(s, "mission") == "created",
        "les comptes de l'établissement seulement"),
    "missions.mission_input": Service(
        lambda s, w, a: missions.mission_input(s, actor=a, mission_id=w.mission_id), MEMBER,
        lambda s, w, r: (r.profession_code, r.count, r.start_date, r.end_date) == ("infirmier_de", 1, START, END),
        "l'établissement de la mission seulement (pour la modifier ou la dupliquer)"),
    "missions.update_mission": Service(
        lambda s, w, a: missions.update_mission(s, actor=a, mission_id=w.mission_id, data=_need(count=2), now=NOW),
        MEMBER,
        lambda s, w, r: r == ["count"] and mission(s, w).count == 2 and last_action(s, "mission") == "updated",
        "l'établissement de la mission seulement"),
    "missions.duplicate_mission": Service(
        lambda s, w, a: missions.duplicate_mission(s, actor=a, mission_id=w.mission_id, now=NOW), MEMBER,
        lambda s, w, r: r != w.mission_id and mission(s, w, r).establishment_id == w.establishment_id
        and (mission(s, w, r).start_date, mission(s, w, r).status) == (START, "open"),
        "l'établissement de la mission seulement"),
    "missions.dashboard": Service(
        lambda s, w, a: missions.dashboard(s, actor=a, establishment_id=w.establishment_id), ESTABLISHMENT_READERS,
        lambda s, w, r: [row["id"] for row in r] == [w.mission_id],
        "l'ARS de sa région et les rôles nationaux lisent, sans action"),
    "missions.assigned_staff": Service(
        lambda s, w, a: missions.assigned_staff(s, actor=a, establishment_id=assigned(s, w)), MEMBER | NAME_READERS,
        lambda s, w, r: [row["professional_id"] for row in r] == [w.professional_id],
        "nominatif : son établissement, son ARS, le CCS, l'admin ; jamais le ministère"),
    # ---- core/staffing/workflow.py
    "workflow.contact": Service(
        lambda s, w, a: workflow.contact(s, actor=a, mission_id=w.mission_id, professional_id=w.professional_id,
                                         now=NOW), MEMBER,
        lambda s, w, r: (r.mission_id, r.state) == (w.mission_id, "contacte")
        and professional(s, w).status == "contacte",
        "l'établissement de la mission seulement (les régulateurs poussent : regulation.push)"),
    "workflow.contact_many": Service(
        lambda s, w, a: workflow.contact_many(s, actor=a, mission_id=w.mission_id,
                                              professional_ids=[w.professional_id], now=NOW), MEMBER,
        lambda s, w, r: (r.contacted, r.failures) == (1, []) and professional(s, w).status == "contacte",
        "l'établissement de la mission seulement"),
    "workflow.validate": Service(
        lambda s, w, a: proposal(s, w, "contacte")
        and workflow.validate(s, actor=a, mission_id=w.mission_id, professional_ids=[w.professional_id], now=NOW),
        MEMBER,
        lambda s, w, r: r == 1 and professional(s, w).status == "affecte" and mission(s, w).status == "filled"
        and _mailed(s, "assigned"),
        "l'établissement de la mission seulement"),
    "workflow.refuse": Service(
        lambda s, w, a: proposal(s, w, "contacte")
        and workflow.refuse(s, actor=a, mission_id=w.mission_id, professional_ids=[w.professional_id], now=NOW),
        MEMBER,
        lambda s, w, r: r == 1 and professional(s, w).status == "disponible"
        and last_action(s, "proposal") == "refused",
        "l'établissement de la mission seulement"),
    "workflow.close_mission": Service(
        lambda s, w, a: proposal(s, w, "contacte") and workflow.close_mission(s, actor=a, mission_id=w.mission_id,
                                                                             now=NOW), MANAGERS,
        lambda s, w, r: r == 1 and mission(s, w).status == "closed" and professional(s, w).status == "disponible",
        "son établissement, l'ARS de sa région, le CCS"),
    "workflow.cancel_assignment": Service(
        lambda s, w, a: assigned(s, w) and workflow.cancel_assignment(
            s, actor=a, mission_id=w.mission_id, professional_id=w.professional_id, reason="Absente", now=NOW),
        MANAGERS,
        lambda s, w, r: professional(s, w).status == "disponible"
        and last_action(s, "proposal") == "assignment_cancelled" and _mailed(s, "cancelled"),
        "son établissement, l'ARS de sa région, le CCS"),
    "workflow.withdraw": Service(
        lambda s, w, a: workflow.withdraw(s, actor=a, proposal_id=proposal(s, w, "contacte").id, now=NOW),
        frozenset({"professionnel"}),
        lambda s, w, r: professional(s, w).status == "disponible" and last_action(s, "proposal") == "declined"
        and _proposal_state(s, s.scalar(sa.select(sa.func.max(m.Proposal.id)))) == "decline"
        and _mailed(s, "declined"),
        "le volontaire, sur sa propre proposition seulement (celle d'un autre : introuvable)"),
    "workflow.express_interest": Service(
        lambda s, w, a: workflow.express_interest(s, actor=a, proposal_id=proposal(s, w, "contacte").id, now=NOW),
        frozenset({"professionnel"}),
        lambda s, w, r: last_action(s, "proposal") == "interested"
        and s.scalar(sa.select(m.Proposal.interested_at).order_by(m.Proposal.id.desc()).limit(1)) == NOW,
        "le volontaire, sur sa propre proposition en attente ; l'état ne change pas"),
    # ---- core/staffing/matching.py
    "matching.find_candidates": Service(
        lambda s, w, a: matching.find_candidates(s, actor=a, mission_id=w.mission_id, now=NOW),
        MANAGERS | {"coordinateur"},
        lambda s, w, r: r.total == 1 and [row["id"] for row in r.rows] == [w.professional_id],
        "« Choisir » (son établissement), « Proposer » (l'ARS de sa région, le CCS, le coordinateur de la "
        "plateforme dont l'établissement est membre : son vivier seulement) ; ni ministère ni admin"),
    # ---- core/staffing/archive.py
    "archive.finished_missions": Service(
        lambda s, w, a: finished(s, w) and archive.finished_missions(s, actor=a, ars_code=REGION), ADMIN,
        lambda s, w, r: r.total == 1 and [row["id"] for row in r.rows] == [w.mission_id],
        "l'administrateur (et l'opérateur en ligne de commande)"),
    "archive.archive_mission": Service(
        lambda s, w, a: archive.archive_mission(s, actor=a, mission_id=finished(s, w), now=NOW), ADMIN,
        lambda s, w, r: (mission(s, w).status, mission(s, w).archived_at) == ("archived", NOW)
        and last_action(s, "mission") == "archived",
        "l'administrateur (et l'opérateur en ligne de commande)"),
    "archive.restore_mission": Service(
        lambda s, w, a: archive.restore_mission(s, actor=a, mission_id=finished(s, w, "archived"), now=NOW), ADMIN,
        lambda s, w, r: mission(s, w).status == "closed" and last_action(s, "mission") == "restored",
        "l'administrateur (et l'opérateur en ligne de commande)"),
    "archive.archive_period": Service(
        lambda s, w, a: finished(s, w) and archive.archive_period(s, actor=a, start=START, end=END, ars_code=REGION,
                                                                  now=NOW), ADMIN,
        lambda s, w, r: r == 1 and mission(s, w).status == "archived"
        and mission(s, w, w.other_mission_id).status == "open",
        "l'administrateur (et l'opérateur en ligne de commande)"),
}
