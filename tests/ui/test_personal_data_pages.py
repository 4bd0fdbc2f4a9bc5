"""What the pages show of volunteers' personal data (issue 12, defects 2 and 5), through the whole app (AppTest):
the ministry's four pages show no volunteer's name or address; an establishment's sheet of a mere candidate
shows DESIGN §4's public fields only — no RPPS/ADELI, no message, no contact — and the rest once contacted."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.staffing.matching import find_candidates
from core.staffing.workflow import contact
from core.volunteers.professionals import CANDIDATE_NOTICE
from db import models as m
from db.session import session_scope
from tests.readers import user_at
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import blocks, button, dialog_titles, errors, table, texts
from ui.markdown import md

MINISTRY = "ministere@example.org"
MANAGER = "etablissement@example.org"
MESSAGE = "Disponible aussi les nuits"
MINISTRY_PAGES = ("vue-nationale", "indicateurs", "missions-region", "exports-de-donnees")


def _volunteers(url: str) -> tuple[set[str], set[str]]:
    """Every demo volunteer's full name and e-mail address."""
    with session_scope(url, read_only=True) as session:
        rows = session.execute(sa.select(m.Professional.first_name, m.Professional.last_name, m.Professional.email))
        names, emails = set(), set()
        for first, last, email in rows:
            names |= {f"{first} {last}", f"{last} {first}", f"{md(first)} {md(last)}"}
            emails |= {email, md(email)}
        return names, emails


def _everything_shown(app: AppTest) -> list[str]:
    """Texts, tables and widget labels of the page, as strings."""
    shown = texts(app._tree)
    for frame in app.dataframe:
        shown += [str(value) for value in frame.value.astype(str).to_numpy().ravel()]
    shown += [str(cell) for element in app.get("table") for cell in getattr(element, "value", [])]
    return shown


@pytest.mark.parametrize("url_path", MINISTRY_PAGES)
def test_the_ministry_reads_its_pages_without_a_volunteers_name_or_address(app: AppTest, demo_url: str,
                                                                           url_path: str) -> None:
    names, emails = _volunteers(demo_url)
    signed_in(app, MINISTRY, "ministere")
    app.session_state["chosen_region"] = "52"
    open_page(app, url_path)
    assert not app.exception and not errors(app)
    if url_path == "missions-region":
        tick(app, 0)  # the selected mission's summary too
        assert "Consultation seule." in [c.value for c in app.caption]
    shown = _everything_shown(app)
    assert shown, "la page affiche quelque chose"
    leaks = [text for text in shown if any(name in text for name in names) or any(e in text for e in emails)]
    assert leaks == []


def _free_candidate_with_an_identifier(url: str) -> tuple[int, dict]:
    """An open mission of the demo establishment and a free candidate of it who gave an RPPS/ADELI number,
    to whom a message is added."""
    manager = user_at(url, MANAGER)
    with session_scope(url) as session:
        missions = session.scalars(sa.select(m.Mission.id).where(
            m.Mission.establishment_id.in_(manager.establishment_ids), m.Mission.status == "open",
            m.Mission.count > 0).order_by(m.Mission.id)).all()
        for mission_id in missions:
            page = find_candidates(session, actor=manager, mission_id=mission_id)
            for row in page.rows:
                professional = session.get(m.Professional, row["id"])
                if row["proposal_state"] is None and row["status"] == "disponible" and professional.id_number:
                    professional.message = MESSAGE
                    # The candidate list never holds the identifier (DESIGN §4): read from the volunteer's row.
                    return mission_id, {**row, "id_type": professional.id_type, "id_number": professional.id_number}
    raise AssertionError("la démo n'a aucun candidat libre avec un identifiant professionnel")


def _sheet_of(app: AppTest, professional_id: int) -> list[str]:
    frame = table(app)
    tick(app, frame.index[frame["id"] == professional_id][0])
    button(app, "Voir la fiche").click().run()
    assert not app.exception
    assert dialog_titles(app) == ["Fiche du professionnel"]
    return texts(blocks(app._tree, "dialog")[0])


def _identifier(row: dict[str, Any]) -> str:
    return md(row["id_type"].upper() + " " + row["id_number"])


def test_an_establishment_sees_a_candidates_public_sheet_then_the_file_once_contacted(app: AppTest,
                                                                                     demo_url: str) -> None:
    mission_id, row = _free_candidate_with_an_identifier(demo_url)
    signed_in(app, MANAGER, "etablissement")
    app.session_state["chosen_mission"] = mission_id
    open_page(app, "choisir")
    before = _sheet_of(app, row["id"])
    assert before[0].startswith(f"### {md(row['first_name'])} {md(row['last_name'])}")
    assert CANDIDATE_NOTICE in before
    assert not any("**Identifiant**" in text or row["id_number"] in text for text in before)
    assert not any(MESSAGE in text or "Message du professionnel" in text for text in before)
    assert not any("**Courriel**" in text for text in before)

    with session_scope(demo_url) as session:
        contact(session, actor=user_at(demo_url, MANAGER), mission_id=mission_id, professional_id=row["id"])
    app.run()
    after = _sheet_of(app, row["id"])
    assert CANDIDATE_NOTICE not in after
    assert any(f"**Identifiant** : {_identifier(row)}" in text for text in after)
    assert "**Message du professionnel**" in after and md(MESSAGE) in after
