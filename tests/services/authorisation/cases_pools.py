"""Rows of the authorisation table for core/pools/projects.py and core/pools/members.py: the ARS's side of a territorial
pool (issue 14), and the coordinator accounts of « Comptes » (core/access/administration.py).

A pool is created, its project followed, its members added or removed and it is closed by the ARS of its region or
the CCS — never by another ARS, the ministry (read-only) or the pool's coordinator. Its table, map and export are read
by the regulators and the national roles (an ARS: its own region, so another ARS reads its own, empty here); one pool
is read by them and by its own coordinator. An establishment asks to join a pool of its department for itself only;
the pool's coordinator, its ARS or the CCS decide. A coordinator account is opened by the ARS of the pool's region or
an admin (the CCS opens no coordinator account, issue 11 §3).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access import administration
from core.places import reference
from core.pools import members, projects
from db import models as m
from tests.factories import NOW, TODAY, make_establishment, make_pool_member
from tests.services.authorisation.world import OTHER_REGION, REGION, Service, World, last_action

REGULATORS = frozenset({"ars", "ccs"})
READERS = frozenset({"ars", "ars_autre_region", "ccs", "ministere", "admin"})  # an ARS reads its own region
POOL_READERS = frozenset({"coordinateur", "ars", "ccs", "ministere", "admin"})
EXPORTERS = frozenset({"ars", "ars_autre_region", "ccs", "ministere"})
DECIDERS = frozenset({"coordinateur", "ars", "ccs"})
POOL_ACCOUNT_OPENERS = frozenset({"ars", "ars_autre_region", "admin"})


def _pool(session: so.Session, world: World) -> m.TerritorialPool:
    return session.get(m.TerritorialPool, world.pool_id, populate_existing=True)


def _state(session: so.Session, world: World, establishment_id: int) -> str | None:
    return session.scalar(sa.select(m.PoolMember.state).where(m.PoolMember.pool_id == world.pool_id,
                                                              m.PoolMember.establishment_id == establishment_id)
                          .order_by(m.PoolMember.id.desc()).limit(1))


def _ssiad(session: so.Session, world: World) -> int:
    """The other establishment of the region, told to be a SSIAD (flushed): it may join the pool."""
    session.get(m.Establishment, world.other_establishment_id).finess_category_code = "354"
    session.flush()
    return world.other_establishment_id


def _asking(session: so.Session, world: World) -> int:
    """That SSIAD asking to join the world's pool (flushed): the request's id."""
    return make_pool_member(session, _pool(session, world), session.get(m.Establishment, _ssiad(session, world)),
                            state="demande").id


def _new_member(session: so.Session, world: World) -> int:
    """An EHPAD of Nantes, member of the world's pool besides its support (flushed): its id."""
    ehpad = make_establishment(session, "44300", finess_category_code="500")
    make_pool_member(session, _pool(session, world), ehpad)
    return ehpad.id


def _map_of_its_region(world: World, rows: list[dict]) -> bool:
    """The departments of the reader's region (or all), the world's department with its one pool."""
    codes = {row["code"] for row in rows}
    of_53 = {d.code for d in reference.departements().values() if d.ars_code == OTHER_REGION}
    if codes == of_53:
        return True
    return next(row for row in rows if row["code"] == "44")["pools"] == 1


CASES: dict[str, Service] = {
    # ---- core/pools/projects.py
    "projects.create_pool": Service(
        lambda s, w, a: projects.create_pool(s, actor=a, now=NOW, pool=projects.NewPool(
            name="Plateforme Anjou", department_code="49", start_date=TODAY,
            support_finess=make_establishment(s, "49000", finess_category_code="500").finess)), REGULATORS,
        lambda s, w, r: r.code.startswith("PT49-") and r.members == 1 and last_action(s, "pool_member") == "member_added",
        "l'ARS de la région du département, le CCS"),
    "projects.update_project": Service(
        lambda s, w, a: projects.update_project(s, actor=a, pool_id=w.pool_id, now=NOW, follow_up=projects.ProjectFollowUp(
            engagement_due=_pool(s, w).engagement_due, convention_due=_pool(s, w).convention_due,
            engagement_received_on=TODAY)), REGULATORS,
        lambda s, w, r: r == ["date de réception de la lettre d'engagement"]
        and _pool(s, w).engagement_received_on == TODAY, "suivi du projet : l'ARS de la région, le CCS"),
    "projects.close_pool": Service(
        lambda s, w, a: projects.close_pool(s, actor=a, pool_id=w.pool_id, now=NOW), REGULATORS,
        lambda s, w, r: _pool(s, w).closed_at is not None and _state(s, w, w.establishment_id) == "retire"),
    "projects.list_pools": Service(
        lambda s, w, a: projects.list_pools(s, actor=a, now=NOW), READERS,
        lambda s, w, r: [row["id"] for row in r.rows] == ([] if r.region == OTHER_REGION else [w.pool_id]),
        "une ARS lit les plateformes de sa région ; le CCS, le ministère et les admins toutes"),
    "projects.pools_map": Service(
        lambda s, w, a: projects.pools_map(s, actor=a, now=NOW), READERS,
        lambda s, w, r: _map_of_its_region(w, r)),
    "projects.pool_detail": Service(
        lambda s, w, a: projects.pool_detail(s, actor=a, pool_id=w.pool_id, now=NOW), POOL_READERS,
        lambda s, w, r: r["id"] == w.pool_id and [row["establishment_id"] for row in r["member_rows"]]
        == [w.establishment_id], "son coordinateur, l'ARS de sa région, les rôles nationaux"),
    "projects.pool_form_choices": Service(
        lambda s, w, a: projects.pool_form_choices(s, actor=a, department_code="44"), REGULATORS,
        lambda s, w, r: "44" in r.departments and r.taken == _pool(s, w).name),
    "projects.export_pools": Service(
        lambda s, w, a: projects.export_pools(s, actor=a, now=NOW), EXPORTERS,
        lambda s, w, r: r.content.startswith(b"PK") and r.rows == (0 if f"region-{OTHER_REGION}" in r.file_name else 1)
        and last_action(s, "export") == "exported", "ARS (sa région), CCS et ministère, depuis « Exports »"),
    "projects.pool_export_scope": Service(
        lambda s, w, a: projects.pool_export_scope(s, actor=a), EXPORTERS,
        lambda s, w, r: r.label in ("ARS Pays de la Loire", "ARS Bretagne", "toutes les régions")
        and r.file_name.endswith(".xlsx")),
    # ---- core/pools/members.py
    "members.add_member": Service(
        lambda s, w, a: members.add_member(s, actor=a, pool_id=w.pool_id, now=NOW, establishment_id=_ssiad(s, w)),
        REGULATORS, lambda s, w, r: _state(s, w, w.other_establishment_id) == "membre"),
    "members.remove_member": Service(
        lambda s, w, a: (ehpad := _new_member(s, w),
                         members.remove_member(s, actor=a, pool_id=w.pool_id, establishment_id=ehpad, now=NOW)),
        REGULATORS, lambda s, w, r: _state(s, w, r[0]) == "retire"),
    "members.request_join": Service(
        lambda s, w, a: members.request_join(s, actor=a, establishment_id=_ssiad(s, w), pool_id=w.pool_id, now=NOW),
        frozenset({"etablissement_autre"}), lambda s, w, r: _state(s, w, w.other_establishment_id) == "demande",
        "un établissement du département, pour lui-même"),
    "members.decide_join": Service(
        lambda s, w, a: members.decide_join(s, actor=a, member_id=_asking(s, w), accept=True, now=NOW), DECIDERS,
        lambda s, w, r: _state(s, w, w.other_establishment_id) == "membre"
        and last_action(s, "pool_member") == "join_accepted", "le coordinateur de la plateforme, son ARS, le CCS"),
    "members.join_requests": Service(
        lambda s, w, a: (_asking(s, w), members.join_requests(s, actor=a, pool_id=w.pool_id))[1], POOL_READERS,
        lambda s, w, r: [row["establishment_id"] for row in r] == [w.other_establishment_id]),
    "members.establishment_pool": Service(
        lambda s, w, a: members.establishment_pool(s, actor=a, establishment_id=w.establishment_id),
        frozenset({"etablissement"}), lambda s, w, r: r.member_of["id"] == w.pool_id,
        "les comptes de l'établissement (« Ma plateforme territoriale »)"),
    "members.declare_finess_category": Service(
        lambda s, w, a: members.declare_finess_category(s, actor=a, establishment_id=w.other_establishment_id,
                                                        code="460", now=NOW), frozenset({"etablissement_autre"}),
        lambda s, w, r: r == "SAAD" and s.get(m.Establishment, w.other_establishment_id).finess_category_code == "460"
        and last_action(s, "establishment") == "finess_category_declared",
        "les comptes de l'établissement, tant que sa catégorie est inconnue"),
    "members.correct_finess_category": Service(
        lambda s, w, a: members.correct_finess_category(s, actor=a, establishment_id=w.other_establishment_id,
                                                        code="460", now=NOW), REGULATORS,
        lambda s, w, r: r[1] == "SAAD" and s.get(m.Establishment, w.other_establishment_id).finess_category_code
        == "460" and last_action(s, "establishment") == "finess_category_corrected",
        "l'ARS de la région de l'établissement, le CCS"),
    # ---- core/access/administration.py: a coordinator account runs an open pool of its region
    "administration.assignable_pools": Service(
        lambda s, w, a: administration.assignable_pools(s, actor=a, ars_code=REGION), POOL_ACCOUNT_OPENERS,
        lambda s, w, r: set(r) in (set(), {w.pool_id}) and (not r or r[w.pool_id].endswith("(44)")),
        "une ARS : les plateformes ouvertes de sa région ; un admin : celles de la région choisie"),
}
