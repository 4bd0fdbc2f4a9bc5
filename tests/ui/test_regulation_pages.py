"""The regulators' pages (ARS, CCS, ministry) through the whole app (AppTest on app.py).

Expected values are computed with the services (core.staffing.regulation.region_missions, core.figures.indicators…) on the
same seeded demo the app reads, never hard-coded ids.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.figures.indicators import (
    IndicatorFilters,
    Period,
    dashboard_period,
    national_overview,
    region_indicators,
)
from core.places import reference
from core.shared.clock import PARIS, paris_datetime, paris_today
from core.staffing.matching import find_candidates
from core.staffing.regulation import (
    U_CCS_ALERT,
    U_EHPAD,
    U_MAX_UNFILLED,
    U_MAX_WAITING,
    U_PER_DAY_UNFILLED,
    U_PER_UNFILLED_POST,
    U_REANIMATION,
    U_STARTS_WITHIN_3_DAYS,
    U_STARTS_WITHIN_7_DAYS,
    U_STARTS_WITHIN_14_DAYS,
    MissionFilters,
    ProfessionalFilters,
    alert_ccs,
    crisis_state,
    region_missions,
    region_professionals,
    set_crisis_mode,
)
from db import models as m
from db.session import session_scope
from tests.readers import latest_proposal_at, row_at, user_at
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import (
    blocks,
    button,
    candidate_map,
    charts,
    dialog_titles,
    errors,
    labels,
    metrics,
    plotly_array,
    table,
    texts,
)
from ui.charts import OVERSEAS
from ui.format import fr_int, fr_percent
from ui.labels import PROFESSIONAL_STATUS

ARS_USER = "ars.paysdelaloire@example.org"
CCS_USER = "ccs@example.org"
MINISTRY = "ministere@example.org"
MANAGER = "etablissement@example.org"
REGION = "52"
REGION_NAME = "Pays de la Loire"
NURSE = "infirmier_de"
ROLES = {ARS_USER: "ars", CCS_USER: "ccs", MINISTRY: "ministere", MANAGER: "etablissement"}
REGULATION_PAGES = {"Missions de la région", "Proposer des candidats", "Professionnels de la région",
                    "Gestion de crise", "Validation des comptes", "Indicateurs", "Vue nationale", "Alertes des ARS"}


# ---------------------------------------------------------------- data helpers


def _queue(url: str, filters: MissionFilters | None = None, *, email: str = ARS_USER,
           ars_code: str = REGION) -> list[dict]:
    """The rows "Missions de la région" shows with its default filters (open, unfilled) unless told."""
    with session_scope(url, read_only=True) as session:
        return region_missions(session, actor=user_at(url, email), ars_code=ars_code, filters=filters or MissionFilters(unfilled_only=True),
                               limit=50).rows


def _ids(rows: list[dict]) -> list[int]:
    return [r["id"] for r in rows]


def _outbox_keys(url: str, to: str) -> set[str]:
    with session_scope(url, read_only=True) as session:
        return set(session.scalars(sa.select(m.Outbox.dedup_key).where(m.Outbox.to == to)))


def _free(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["proposal_state"] is None and r["status"] == "disponible"]


def _mission_with_free_candidates(url: str, at_least: int = 1) -> tuple[dict, Any]:
    """An open unfilled mission of the region whose first page of candidates has free volunteers."""
    user = user_at(url, ARS_USER)
    for row in _queue(url):
        with session_scope(url, read_only=True) as session:
            page = find_candidates(session, actor=user, mission_id=row["id"])
        if len(_free(page.rows)) >= at_least:
            return row, page
    raise AssertionError("la démo n'a aucune mission ouverte de la région avec des candidats disponibles")


def _alert(url: str, message: str = "Aucun candidat dans la région malgré nos appels.") -> dict:
    """An open mission of the region flagged to the CCS by its ARS (through the service)."""
    row = _queue(url)[0]
    with session_scope(url) as session:
        alert_ccs(session, actor=user_at(url, ARS_USER), mission_id=row["id"], message=message)
    return {**row, "message": message, "alerted_at": row_at(url, m.Mission, row["id"]).ccs_alert_at}


def _default_period() -> Period:
    return dashboard_period()  # what the pages open on


# ---------------------------------------------------------------- page helpers


def _open(app: AppTest, url_path: str, email: str = ARS_USER, region: str | None = None) -> AppTest:
    """Sign in and open a page; national roles first pick the region (kept across pages)."""
    signed_in(app, email, ROLES[email])
    if region is not None:
        app.session_state["chosen_region"] = region
    open_page(app, url_path)
    assert not app.exception
    return app


def _titles(app: AppTest) -> set[str]:
    return {info["page_name"] for info in app._registered_pages.values()}


def _default_page(app: AppTest) -> str:
    return next(info["page_name"] for info in app._registered_pages.values() if info["url_pathname"] == "")


def _popovers(app: AppTest) -> dict[str, bool]:
    """Each popover's label → enabled."""
    return {block.proto.popover.label: not block.proto.popover.disabled for block in blocks(app._tree, "popover")}


def _successes(app: AppTest) -> list[str]:
    return [s.value for s in app.success]


def _map_values(figure: dict) -> dict[str, float]:
    """Department code → the value that colours it."""
    trace = figure["data"][0]
    return dict(zip(plotly_array(trace["locations"]), plotly_array(trace["z"])))


# ---------------------------------------------------------------- navigation per role


@pytest.mark.parametrize(("email", "pages", "landing"), [
    (ARS_USER, {"Missions de la région", "Proposer des candidats", "Professionnels de la région", "Gestion de crise",
                "Validation des comptes", "Indicateurs"}, "Missions de la région"),
    (CCS_USER, {"Vue nationale", "Alertes des ARS", "Validation des comptes", "Missions de la région",
                "Proposer des candidats", "Professionnels de la région", "Gestion de crise", "Indicateurs"},
     "Vue nationale"),
    (MINISTRY, {"Vue nationale", "Indicateurs", "Missions de la région"}, "Vue nationale"),
    (MANAGER, set(), "Tableau de bord"),
], ids=["ars", "ccs", "ministere", "etablissement"])
def test_each_role_sees_only_its_regulation_pages_and_lands_on_the_first(app, email, pages, landing) -> None:
    signed_in(app, email, ROLES[email])
    assert _titles(app) & REGULATION_PAGES == pages
    assert "Accueil" in _titles(app)
    assert _default_page(app) == landing
    assert app.title[0].value == landing


# ---------------------------------------------------------------- "Missions de la région"


def test_the_region_missions_follow_the_service_priority_order_and_the_caption_explains_the_score(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    expected = _queue(demo_url)
    assert len(expected) > 1
    frame = table(app)
    assert frame["id"].tolist() == _ids(expected)
    assert frame["Urgence"].tolist() == [r["urgency"] for r in expected]
    assert frame["Pourvue"].tolist() == [f"POURVUE {r['assigned']}/{r['count']}" for r in expected]
    assert set(frame["ARS"]) == {REGION_NAME}
    assert app.caption[0].value == (
        "ARS Pays de la Loire — file de priorité des besoins. Score d'urgence : début dans 3 jours ou moins (ou déjà "
        "commencée) +30, dans 7 jours +20, dans 14 jours +10 ; +5 par poste non pourvu (max 25) ; réanimation +15 ; "
        "EHPAD +10 ; +2 par jour depuis la création (max 20) ; alerte CCS +25. Une priorité manuelle (1 = la plus "
        "urgente) passe avant le score.")
    assert f"Affichage 1 - {len(expected)} de {len(expected)} · cochez une mission pour agir." in [
        c.value for c in app.caption]


def test_the_urgency_shown_is_the_score_the_caption_documents(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    today = paris_today()
    expected = []
    for r in _queue(demo_url):
        to_start = (r["start_date"] - today).days
        waiting = (today - r["created_at"].astimezone(PARIS).date()).days
        expected.append(
            (U_STARTS_WITHIN_3_DAYS if to_start <= 3 else U_STARTS_WITHIN_7_DAYS if to_start <= 7
             else U_STARTS_WITHIN_14_DAYS if to_start <= 14 else 0)
            + min(max(r["count"] - r["assigned"], 0) * U_PER_UNFILLED_POST, U_MAX_UNFILLED)
            + U_REANIMATION * bool(r["exp_reanimation"]) + U_EHPAD * bool(r["exp_ehpad"])
            + min(max(waiting, 0) * U_PER_DAY_UNFILLED, U_MAX_WAITING) + U_CCS_ALERT * bool(r["ccs_alert_at"]))
    assert table(app)["Urgence"].tolist() == expected


def test_the_department_profession_and_unfilled_filters_change_the_rows_as_the_service_does(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    everything = _ids(_queue(demo_url))

    app.selectbox(key="region_department").select("44").run()
    in_44 = _ids(_queue(demo_url, MissionFilters(department_code="44", unfilled_only=True)))
    assert in_44 and len(in_44) < len(everything)
    assert table(app)["id"].tolist() == in_44
    assert set(table(app)["CP"].str[:2]) == {"44"}

    app.selectbox(key="region_department").select(None)
    app.selectbox(key="region_profession").select(NURSE).run()
    nurses = _ids(_queue(demo_url, MissionFilters(profession_code=NURSE, unfilled_only=True)))
    assert nurses and len(nurses) < len(everything)
    assert table(app)["id"].tolist() == nurses
    assert set(table(app)["Profession"]) == {"Infirmier diplômé d'État"}

    app.selectbox(key="region_profession").select(None)
    app.multiselect(key="region_statuses").set_value(["open", "filled"]).run()
    assert table(app)["id"].tolist() == everything  # filled missions are not "unfilled"
    app.checkbox(key="region_unfilled").uncheck().run()
    all_of_them = _ids(_queue(demo_url, MissionFilters(statuses=("open", "filled"), unfilled_only=False)))
    assert len(all_of_them) > len(everything)
    assert table(app)["id"].tolist() == all_of_them
    assert "Pourvue" in set(table(app)["Statut"])


def test_selecting_a_mission_shows_its_summary_and_actions_and_proposer_opens_it(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    assert "Proposer des candidats" not in labels(app) and not _popovers(app)  # nothing selected, no action
    row = _queue(demo_url)[1]
    tick(app, 1)
    assert (f"**{row['establishment']}** — {row['profession']} du {row['start_date']:%d/%m/%Y} au "
            f"{row['end_date']:%d/%m/%Y} — POURVUE {row['assigned']}/{row['count']} — urgence {row['urgency']}") in [
        md.value for md in app.markdown]
    assert labels(app)["Proposer des candidats"] is True
    assert _popovers(app) == {"Priorité manuelle…": True, "Alerter le CCS…": True}

    button(app, "Proposer des candidats").click().run()
    assert not app.exception
    assert app.title[0].value == "Proposer des candidats"
    assert app.selectbox(key="proposed_mission").value == row["id"]


def test_a_manual_priority_puts_the_mission_first_until_it_is_given_back_to_the_score(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    order = _ids(_queue(demo_url))
    last = order[-1]
    tick(app, len(order) - 1)
    # The value typed and the click reach the app in the same run (as when the field is left by the click).
    app.number_input(key=f"priority_{last}").set_value(2)
    button(app, "Enregistrer la priorité").click().run()
    assert not app.exception
    assert _successes(app) == ["Priorité 2 enregistrée."]
    assert row_at(demo_url, m.Mission, last).manual_priority == 2
    frame = table(app)
    assert frame["id"].tolist() == [last, *order[:-1]] == _ids(_queue(demo_url))
    assert str(frame["Priorité"].iloc[0]) == "2"
    assert not _popovers(app)  # the rows moved: nothing stays ticked

    tick(app, 0)
    button(app, "Revenir au score d'urgence").click().run()
    assert _successes(app) == ["Priorité manuelle retirée."]
    assert row_at(demo_url, m.Mission, last).manual_priority is None
    assert table(app)["id"].tolist() == order


def test_alerting_the_ccs_needs_a_message_then_flags_the_mission(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    row = _queue(demo_url)[-1]
    tick(app, len(_queue(demo_url)) - 1)
    button(app, "Envoyer l'alerte").click().run()
    assert not app.exception
    assert errors(app) == ["Le champ « Message au CCS » est obligatoire."]
    assert row_at(demo_url, m.Mission, row["id"]).ccs_alert_at is None

    app.text_area(key=f"alert_message_{row['id']}").input("Aucun infirmier disponible malgré nos relances.")
    button(app, "Envoyer l'alerte").click().run()
    assert not app.exception
    assert _successes(app) == ["Alerte envoyée au CCS : la mission est signalée dans sa liste."]
    mission = row_at(demo_url, m.Mission, row["id"])
    assert mission.ccs_alert_at is not None
    assert mission.ccs_alert_message == "Aucun infirmier disponible malgré nos relances."
    assert any(key.startswith(f"alert:{row['id']}:") for key in _outbox_keys(demo_url, CCS_USER))
    frame = table(app)
    flagged = frame.loc[frame["id"] == row["id"]]
    assert flagged["Alerte"].tolist() == ["ALERTE CCS"]
    assert flagged["Urgence"].tolist() == [row["urgency"] + U_CCS_ALERT]
    assert frame["id"].tolist() == _ids(_queue(demo_url))


def test_the_ministry_reads_the_region_missions_without_any_action(app, demo_url) -> None:
    _open(app, "missions-region", MINISTRY, region=REGION)
    assert app.selectbox(key="chosen_region").value == REGION
    assert table(app)["id"].tolist() == _ids(_queue(demo_url, email=MINISTRY))
    tick(app, 0)
    assert "Consultation seule." in [c.value for c in app.caption]
    assert labels(app) == {"◀ Précédentes": False, "Suivantes ▶": False}
    assert not _popovers(app)


def test_the_ccs_picks_the_region_whose_missions_it_regulates(app, demo_url) -> None:
    _open(app, "missions-region", CCS_USER)
    assert app.selectbox(key="chosen_region").value == "11"  # Île-de-France first
    assert app.caption[0].value.startswith("ARS Île-de-France — file de priorité des besoins.")
    assert (table(app)["id"].tolist() if app.dataframe else []) == _ids(_queue(demo_url, email=CCS_USER,
                                                                                 ars_code="11"))
    app.selectbox(key="chosen_region").select(REGION).run()
    assert app.caption[0].value.startswith("ARS Pays de la Loire — file de priorité des besoins.")
    assert table(app)["id"].tolist() == _ids(_queue(demo_url, email=CCS_USER))
    tick(app, 0)
    assert _popovers(app) == {"Priorité manuelle…": True}  # only the region's ARS alerts the CCS


# ---------------------------------------------------------------- "Proposer des candidats"


def _open_propose(app: AppTest, mission_id: int) -> AppTest:
    signed_in(app, ARS_USER, "ars")
    app.session_state["proposed_mission"] = mission_id
    open_page(app, "proposer")
    assert not app.exception
    return app


def test_the_proposer_page_shows_the_map_and_the_ranked_candidates_of_the_mission(app, demo_url) -> None:
    mission, page = _mission_with_free_candidates(demo_url)
    _open_propose(app, mission["id"])
    assert app.selectbox(key="proposed_mission").value == mission["id"]
    assert app.caption[0].value.startswith(
        f"{mission['establishment']} ({mission['postal_code']} {mission['city']}) — {mission['count']} poste(s), "
        f"{mission['assigned']} pourvu(s)")
    shown = candidate_map(app)
    assert shown["L'établissement"] == []  # its ring, no volunteer behind it
    assert sorted(i for ids in shown.values() for i in ids) == sorted(p["id"] for p in page.map_points)
    assert table(app)["id"].tolist() == [r["id"] for r in page.rows]
    assert labels(app)["Proposer"] is False
    assert "Confirmer l'affectation" not in labels(app)  # its popover is disabled until one row is ticked


def test_pushing_a_free_volunteer_puts_them_in_progress_and_emails_both_sides(app, demo_url) -> None:
    mission, page = _mission_with_free_candidates(demo_url)
    volunteer = _free(page.rows)[0]
    _open_propose(app, mission["id"])
    tick(app, [r["id"] for r in page.rows].index(volunteer["id"]))
    assert labels(app)["Proposer (1)"] is True
    button(app, "Proposer (1)").click().run()
    assert not app.exception
    assert _successes(app) == [
        "1 professionnel(s) proposé(s) : statut EN COURS. L'établissement et les professionnels sont prévenus par "
        "courriel ; l'établissement va les contacter."]
    proposal = latest_proposal_at(demo_url, mission["id"], volunteer["id"])
    assert (proposal.origin, proposal.state, proposal.by_user_id) == ("push", "en_cours", user_at(demo_url, ARS_USER).id)
    professional = row_at(demo_url, m.Professional, volunteer["id"])
    assert professional.status == "en_cours"
    with session_scope(demo_url, read_only=True) as session:
        requester = session.get(m.User, row_at(demo_url, m.Mission, mission["id"]).created_by).email
    assert f"pushed-volunteer:{proposal.id}" in _outbox_keys(demo_url, professional.email)
    assert f"pushed-establishment:{proposal.id}" in _outbox_keys(demo_url, requester)
    frame = table(app)
    assert frame.loc[frame["id"] == volunteer["id"], "Statut"].tolist() == ["EN COURS (PROPOSÉ PAR L'ARS)"]
    assert labels(app)["Proposer"] is False  # nothing ticked after the action


def test_assigning_for_the_establishment_records_the_assignment_at_once(app, demo_url) -> None:
    mission, page = _mission_with_free_candidates(demo_url)
    volunteer = _free(page.rows)[0]
    _open_propose(app, mission["id"])
    tick(app, [r["id"] for r in page.rows].index(volunteer["id"]))
    assert labels(app)["Confirmer l'affectation"] is True  # inside its confirmation popover
    button(app, "Confirmer l'affectation").click().run()
    assert not app.exception
    assert _successes(app) == [
        "Affectation enregistrée pour le compte de l'établissement ; le professionnel est prévenu par courriel."]
    proposal = latest_proposal_at(demo_url, mission["id"], volunteer["id"])
    assert (proposal.origin, proposal.state, proposal.by_user_id) == ("push", "affecte", user_at(demo_url, ARS_USER).id)
    assert row_at(demo_url, m.Professional, volunteer["id"]).status == "affecte"


# ---------------------------------------------------------------- "Professionnels de la région"


def _people(url: str, filters: ProfessionalFilters | None = None) -> list[dict]:
    with session_scope(url, read_only=True) as session:
        return region_professionals(session, actor=user_at(url, ARS_USER), ars_code=REGION, filters=filters)[0]


def _names(rows: list[dict]) -> list[tuple[str, str]]:
    return [(r["last_name"], r["first_name"]) for r in rows]


def _frame_names(app: AppTest) -> list[tuple[str, str]]:
    frame = table(app)
    return list(zip(frame["Nom"], frame["Prénom"]))


def test_the_region_volunteers_are_listed_and_searched_as_the_service_does(app, demo_url) -> None:
    _open(app, "professionnels")
    everyone = _people(demo_url)
    assert _frame_names(app) == _names(everyone)
    assert table(app)["Statut"].tolist() == [PROFESSIONAL_STATUS[r["status"]] for r in everyone]

    text = everyone[0]["city"][:5]
    found = _people(demo_url, ProfessionalFilters(text=text))
    assert 0 < len(found) < len(everyone)
    app.text_input(key="pros_text").input(text).run()
    assert _frame_names(app) == _names(found)
    assert f"Affichage 1 - {len(found)} de {len(found)} · cochez un professionnel pour agir." in [
        c.value for c in app.caption]


def test_marking_a_volunteer_verified_gives_the_badge(app, demo_url) -> None:
    _open(app, "professionnels")
    rows = _people(demo_url)
    position, row = next((i, r) for i, r in enumerate(rows) if not r["verified"])
    tick(app, position)
    assert f"**{row['first_name']} {row['last_name']}** — {row['profession']} — " \
           f"{PROFESSIONAL_STATUS[row['status']]}" in [md.value for md in app.markdown]
    button(app, "Marquer VÉRIFIÉ").click().run()
    assert not app.exception
    assert _successes(app) == ["Documents vérifiés : badge VÉRIFIÉ."]
    assert row_at(demo_url, m.Professional, row["id"]).verified is True
    assert table(app)["Vérifié"].iloc[position] == "VÉRIFIÉ"
    assert "Retirer « VÉRIFIÉ »" in labels(app)


def test_making_a_volunteer_unavailable_needs_a_reason(app, demo_url) -> None:
    _open(app, "professionnels")
    rows = _people(demo_url)
    position, row = next((i, r) for i, r in enumerate(rows) if r["status"] == "disponible")
    tick(app, position)
    assert _popovers(app)["Rendre indisponible…"] is True
    confirm = next(b for b in app.button if b.key == f"pro_unavailable_{row['id']}")
    confirm.click().run()
    assert not app.exception
    assert errors(app) == ["Le champ « Motif » est obligatoire."]
    assert row_at(demo_url, m.Professional, row["id"]).status == "disponible"

    app.text_area(key=f"pro_reason_{row['id']}").input("Diplôme non conforme")
    next(b for b in app.button if b.key == f"pro_unavailable_{row['id']}").click().run()
    assert not app.exception
    assert _successes(app) == ["Professionnel rendu indisponible : il n'est plus proposé."]
    assert row_at(demo_url, m.Professional, row["id"]).status == "indisponible"
    assert table(app)["Statut"].iloc[position] == "Indisponible"
    assert _popovers(app)["Rendre indisponible…"] is False


# ---------------------------------------------------------------- "Gestion de crise"

NORMAL = "Mode normal : les établissements choisissent eux-mêmes leurs renforts."
NO_HISTORY = "Le mode gestion de crise n'a jamais été activé dans cette région."


def _state(url: str) -> tuple[bool, tuple[str, ...]]:
    with session_scope(url, read_only=True) as session:
        state = crisis_state(session, actor=user_at(url, ARS_USER), ars_code=REGION)
    return state.all_professions, state.professions


def _history(app: AppTest) -> pd.DataFrame:
    assert len(app.table) == 1
    return app.table[0].value


def test_crisis_mode_is_switched_on_for_a_profession_after_confirmation_then_back_to_normal(app, demo_url) -> None:
    _open(app, "gestion-de-crise")
    assert _successes(app) == [NORMAL]
    assert NO_HISTORY in [c.value for c in app.caption]
    opening = "Activer le mode gestion de crise…"

    app.radio(key="crisis_scope").set_value("some").run()
    assert labels(app)[opening] is False  # no profession chosen yet
    app.multiselect(key="crisis_professions").set_value([NURSE]).run()
    button(app, opening).click().run()
    assert dialog_titles(app) == ["Activer le mode gestion de crise"]
    dialog = blocks(app._tree, "dialog")[0]
    assert texts(dialog)[0] == "Région : **Pays de la Loire** — Infirmier diplômé d'État."
    assert _state(demo_url) == (False, ())  # nothing happens before the answer

    # In the browser "Oui, activer" reruns the dialog alone; AppTest reruns the page: press both buttons.
    button(app, opening).click()
    button(app, "Oui, activer").click().run()
    assert not app.exception
    assert _state(demo_url) == (False, (NURSE,))
    assert _successes(app) == ["Mode gestion de crise activé pour Infirmier diplômé d'État."]
    assert errors(app) == ["Mode gestion de crise actif pour : Infirmier diplômé d'État. L'ARS propose les "
                            "candidats."]
    assert app.multiselect(key="crisis_professions").value == []  # done: the next choice starts empty
    history = _history(app)
    assert history.index.tolist() == ["Infirmier diplômé d'État"]
    assert (history["par"].iloc[0], history["Désactivé le"].iloc[0]) == ("Sophie Garnier", "— (actif)")

    button(app, "Confirmer le retour au mode normal").click().run()
    assert not app.exception
    assert _state(demo_url) == (False, ())
    assert _successes(app) == ["Mode gestion de crise désactivé pour toutes les professions.", NORMAL]
    history = _history(app)
    assert history.index.tolist() == ["Infirmier diplômé d'État"]
    assert history["Désactivé le"].iloc[0] != "— (actif)"
    assert history["par "].iloc[0] == "Sophie Garnier"


def test_a_crisis_for_every_profession_is_shown_to_the_ccs_with_a_single_switch_off(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        set_crisis_mode(session, actor=user_at(demo_url, ARS_USER), ars_code=REGION, enabled=True)
    _open(app, "gestion-de-crise", CCS_USER, region=REGION)
    assert errors(app) == ["Mode gestion de crise actif pour : toutes les professions. L'ARS propose les candidats."]
    history = _history(app)
    assert history.index.tolist() == ["Toutes les professions"]
    assert history["Désactivé le"].tolist() == ["— (actif)"]
    assert labels(app) == {"Confirmer le retour au mode normal": True, "Activer le mode gestion de crise…": True}
    assert [w.key for w in app.multiselect] == []  # no per-profession switch-off while every profession is on


def test_the_ministry_has_no_crisis_page(app) -> None:
    signed_in(app, MINISTRY, "ministere")
    with pytest.raises(AssertionError, match="absente de la navigation"):
        open_page(app, "gestion-de-crise")


# ---------------------------------------------------------------- "Alertes des ARS"


def test_an_alert_of_an_ars_is_listed_until_the_ccs_opens_the_national_pools(app, demo_url) -> None:
    alert = _alert(demo_url)
    _open(app, "alertes", CCS_USER)
    assert app.caption[0].value.startswith("1 alerte(s), la plus ancienne d'abord.")
    markdown = [md.value for md in app.markdown]
    assert f"#### ARS {REGION_NAME} — {alert['establishment']}" in markdown
    assert any(text.startswith(f"**{alert['profession']}** du {alert['start_date']:%d/%m/%Y} au ")
               and text.endswith(f"Alerte du {paris_datetime(alert['alerted_at'])} : « {alert['message']} »")
               for text in markdown)

    button(app, "Confirmer l'ouverture").click().run()
    assert not app.exception
    assert row_at(demo_url, m.Mission, alert["id"]).pools_opened_at is not None
    assert _successes(app) == [
        "Viviers nationaux ouverts : les volontaires des autres régions prêts à une mobilité nationale sont "
        "désormais candidats ; l'ARS est prévenue.", "Aucune alerte en attente."]
    assert f"pools:{alert['id']}:{user_at(demo_url, ARS_USER).id}" in _outbox_keys(demo_url, ARS_USER)
    assert not [md.value for md in app.markdown if md.value.startswith("#### ARS")]


def test_without_alerts_the_ccs_is_told_none_is_waiting(app) -> None:
    _open(app, "alertes", CCS_USER)
    assert _successes(app) == ["Aucune alerte en attente."]
    assert labels(app) == {}


def test_proposing_candidates_from_an_alert_opens_the_mission_in_its_region(app, demo_url) -> None:
    alert = _alert(demo_url)
    _open(app, "alertes", CCS_USER)
    button(app, "Proposer des candidats").click().run()
    assert not app.exception
    assert app.title[0].value == "Proposer des candidats"
    assert app.selectbox(key="chosen_region").value == REGION
    assert app.selectbox(key="proposed_mission").value == alert["id"]


# ---------------------------------------------------------------- "Vue nationale"


def _overview(url: str):  # noqa: ANN202
    with session_scope(url, read_only=True) as session:
        return national_overview(session, actor=user_at(url, CCS_USER), filters=IndicatorFilters(period=_default_period()))


def _headline(app: AppTest) -> dict[str, str]:
    """The page's headline figures (the tension history below has metrics of its own, dated)."""
    history = ("Postes non pourvus au ", "Tension (", "Postes pourvus / demandés")
    return {label: value for label, value in metrics(app).items() if not label.startswith(history)}


def _table_with(app: AppTest, column: str):  # noqa: ANN202 - a DataFrame
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def test_the_national_headline_is_the_service_overview_in_french_formats(app, demo_url) -> None:
    _alert(demo_url)
    signed_in(app, CCS_USER, "ccs")
    h = _overview(demo_url).headline
    assert h.open_alerts == 1 and h.open_missions > 0
    assert _headline(app) == {
        "Besoins ouverts": fr_int(h.open_missions), "Postes demandés": fr_int(h.posts_requested),
        "Postes pourvus": fr_int(h.posts_filled), "Taux de pourvoi": fr_percent(h.fill_rate),
        "Volontaires disponibles": fr_int(h.available_volunteers),
        "Demandes de compte en attente": fr_int(h.pending_account_requests),
        "Alertes des ARS ouvertes": fr_int(h.open_alerts),
    }


def test_the_national_map_draws_the_mainland_and_each_overseas_department_as_an_inset(app, demo_url) -> None:
    signed_in(app, CCS_USER, "ccs")
    figures = charts(app)
    assert len(figures) >= 6
    assert {"national_map", *(f"national_inset_{code}" for code in OVERSEAS)} <= set(figures)
    overview = _overview(demo_url)
    unfilled = {d.department_code: d.unfilled_posts for d in overview.by_department}
    mainland = _map_values(figures["national_map"])
    metropolitan = {code for code in unfilled if len(code) == 2}
    assert len(metropolitan) == 96
    assert metropolitan <= set(mainland)
    assert not set(OVERSEAS) & set(mainland)
    assert mainland == {code: unfilled[code] for code in mainland}
    assert any(mainland[code] for code in metropolitan)
    for code in OVERSEAS:
        assert list(_map_values(figures[f"national_inset_{code}"])) == [code]


def test_the_region_mesh_colours_each_department_with_its_region(app, demo_url) -> None:
    signed_in(app, CCS_USER, "ccs")
    app.radio(key="national_mesh").set_value("region").run()
    assert not app.exception
    overview = _overview(demo_url)
    by_region = {r.ars_code: r.unfilled_posts for r in overview.by_region}
    region_of = {d.department_code: d.ars_code for d in overview.by_department}
    mainland = _map_values(charts(app)["national_map"])
    assert mainland == {code: by_region[region_of[code]] for code in mainland}
    assert mainland["44"] == by_region[REGION] > 0


def test_a_department_clicked_on_the_map_lists_its_open_missions(app, demo_url) -> None:
    signed_in(app, CCS_USER, "ccs")
    app.session_state["national_map"] = {
        "selection": {"points": [{"location": "44"}], "point_indices": [], "box": [], "lasso": []}}
    app.run()
    assert not app.exception
    assert [s.value for s in app.subheader if s.value.startswith("Missions")] == [
        "Missions ouvertes — Loire-Atlantique (44)"]
    expected = _queue(demo_url, MissionFilters(department_code="44", unfilled_only=True), email=CCS_USER)
    assert expected
    frame = _table_with(app, "Établissement")
    assert frame["Établissement"].tolist() == [r["establishment"] for r in expected]
    assert frame["Urgence"].tolist() == [r["urgency"] for r in expected]


# ---------------------------------------------------------------- "Indicateurs"


def _indicatormetrics(url: str, email: str = ARS_USER, department: str | None = None) -> dict[str, str]:
    with session_scope(url, read_only=True) as session:
        data = region_indicators(session, actor=user_at(url, email), ars_code=REGION, filters=IndicatorFilters(
            period=_default_period(), department_code=department))
    hours = data.median_time_to_fill_hours
    days, rest = divmod(round(hours), 24) if hours is not None else (0, 0)
    return {
        "Postes demandés": fr_int(sum(d.requested for d in data.posts_by_department)),
        "Postes pourvus": fr_int(sum(d.filled for d in data.posts_by_department)),
        "Volontaires disponibles": fr_int(sum(a.volunteers for a in data.available_by_profession_and_department)),
        "Délai médian de pourvoi": "–" if hours is None else f"{days} j {rest} h" if days else f"{rest} h",
    }


def test_the_region_indicators_match_the_service_and_follow_the_department_filter(app, demo_url) -> None:
    _open(app, "indicateurs")
    assert app.caption[0].value == "ARS Pays de la Loire — Pays de la Loire"
    region = _indicatormetrics(demo_url)
    assert _headline(app) == region
    app.selectbox(key="indicators_department").select("53").run()
    assert not app.exception
    assert app.caption[0].value == "ARS Pays de la Loire — Mayenne"
    mayenne = _indicatormetrics(demo_url, department="53")
    assert _headline(app) == mayenne != region


def test_the_funnel_table_lists_the_region_professions(app, demo_url) -> None:
    _open(app, "indicateurs")
    with session_scope(demo_url, read_only=True) as session:
        funnel = region_indicators(session, actor=user_at(demo_url, ARS_USER), ars_code=REGION,
                                   filters=IndicatorFilters(period=_default_period())).funnel
    frame = _table_with(app, "Inscrits")
    assert frame["Profession"].tolist() == [f.label for f in funnel if f.registered]
    assert frame["Inscrits"].tolist() == [f.registered for f in funnel if f.registered]
    assert "indicators_funnel" in charts(app)


def test_the_ministry_reads_the_indicators_as_consultation_only(app) -> None:
    _open(app, "indicateurs", MINISTRY, region=REGION)
    assert app.caption[0].value == "ARS Pays de la Loire — Pays de la Loire — consultation seule"
    assert reference.ars_names()[REGION] == REGION_NAME
