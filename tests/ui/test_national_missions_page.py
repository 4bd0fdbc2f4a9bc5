"""« Missions nationales » through the whole app (AppTest on app.py, the small seeded demo): the address restores a
view (level, filters, page), each level shows the figures and rows the services give, ticking a row goes down,
the breadcrumbs link back up with the same filters, and the ministry reads no contact."""

from __future__ import annotations

from urllib.parse import parse_qs

import pandas as pd
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.figures.indicators import dashboard_period
from core.figures.national_missions import NationalFilters, national_breakdown, national_missions
from core.places import reference
from db import models as m
from db.session import session_scope
from tests.readers import user_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import metrics, texts
from ui.format import fr_int

CCS, MINISTRY = "ccs@example.org", "ministere@example.org"
ROLES = {CCS: "ccs", MINISTRY: "ministere"}
PAGE = "missions-nationales"


def _open(app: AppTest, email: str = CCS, **params: str) -> AppTest:
    signed_in(app, email, ROLES[email])
    app.query_params.update(params)
    open_page(app, PAGE)
    assert not app.exception, app.exception
    return app


def _crumbs(app: AppTest) -> list[tuple[str, dict]]:
    """The breadcrumbs' links: label → the address they open."""
    return [(link.proto.label, {k: v[0] for k, v in parse_qs(link.proto.query_string).items()})
            for link in app.get("page_link")]


def _current_crumb(app: AppTest) -> str:
    return next(text for text in texts(app.main) if text.startswith("**"))


def _listed(url: str, email: str = CCS, **filters) -> tuple:  # noqa: ANN003 - NationalFilters' fields
    with session_scope(url, read_only=True) as session:
        return national_missions(session, actor=user_at(url, email), filters=NationalFilters(**filters), limit=50)


def _levels(url: str, level: str, **filters) -> list[dict]:  # noqa: ANN003
    with session_scope(url, read_only=True) as session:
        return national_breakdown(session, actor=user_at(url, CCS), level=level, filters=NationalFilters(**filters)).rows


def _figures(listed) -> dict[str, str]:  # noqa: ANN001 - a NationalMissionList
    return {"Missions ouvertes": fr_int(listed.total), "Postes demandés": fr_int(listed.posts),
            "Postes non pourvus": fr_int(listed.unfilled), "Alertes CCS en cours": fr_int(listed.alerts)}


def _tables(app: AppTest) -> list[pd.DataFrame]:
    return [frame.value for frame in app.dataframe]


def _tick(app: AppTest, table: int, position: int) -> AppTest:
    app.session_state[app.dataframe[table].key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    app.run()
    assert not app.exception, app.exception
    return app


def _busiest_department(url: str, **filters) -> tuple[str, str]:  # noqa: ANN003 - NationalFilters' fields
    """The department with the most missions under these filters (the demo data decides which one)."""
    rows = _levels(url, "department", **filters)
    best = max(rows, key=lambda r: (r["missions"], r["code"]))
    return best["code"], best["name"]


# ---------------------------------------------------------------- the address restores the view


def test_a_shared_address_opens_the_same_department_with_its_filters(app: AppTest, demo_url: str) -> None:
    code, name = _busiest_department(demo_url, profession_code="infirmier_de",
                                     urgency_levels=("tres_urgente", "urgente"))
    ars = reference.departements()[code].ars_code
    _open(app, departement=code, profession="infirmier_de", urgence="urgente,tres_urgente")
    expected = _listed(demo_url, department_code=code, profession_code="infirmier_de",
                       urgency_levels=("tres_urgente", "urgente"))
    assert _current_crumb(app) == f"**{name} ({code})**"
    kept = {"profession": "infirmier_de", "urgence": "tres_urgente,urgente"}
    assert _crumbs(app) == [("France", kept), (expected.place.region, {**kept, "region": ars})]
    assert app.selectbox[0].value == "infirmier_de"
    assert app.multiselect[0].value == ["tres_urgente", "urgente"]
    assert metrics(app) == _figures(expected)
    establishments, missions = _tables(app)
    assert establishments["Établissement"].tolist() == [r["name"] for r in _levels(
        demo_url, "establishment", department_code=code, profession_code="infirmier_de",
        urgency_levels=("tres_urgente", "urgente"))]
    assert missions["id"].tolist() == [r["id"] for r in expected.rows]
    assert set(missions["Profession"]) <= {"Infirmier diplômé d'État"}
    assert {"Région", "Département"}.isdisjoint(missions.columns)  # the breadcrumbs say them
    # The address is written back in its clean form (the levels in their order, the place completed upwards).
    assert app.query_params == {"departement": code, "profession": "infirmier_de", "urgence": "tres_urgente,urgente"}


def test_a_page_number_in_the_address_shows_that_page_and_a_filter_change_goes_back_to_the_first(
        app: AppTest, demo_url: str) -> None:
    _open(app, page="2")
    everything = _listed(demo_url)
    assert everything.total > 50, "la démo doit avoir plus d'une page de missions"
    caption = next(text for text in texts(app.main) if text.startswith("Affichage"))
    assert caption.startswith(f"Affichage 51-{fr_int(min(100, everything.total))} sur {fr_int(everything.total)}")
    next(b for b in app.button if b.label == "◀ Précédentes").click().run()
    assert app.query_params == {}  # the first page is the default: no number in the address
    assert next(text for text in texts(app.main) if text.startswith("Affichage")).startswith("Affichage 1-50 ")
    next(b for b in app.button if b.label == "Suivantes ▶").click().run()
    assert app.query_params == {"page": "2"}
    app.selectbox[0].set_value("aide_soignant").run()
    assert app.query_params == {"profession": "aide_soignant"}
    carers = _listed(demo_url, profession_code="aide_soignant")
    assert _tables(app)[1]["id"].tolist() == [r["id"] for r in carers.rows]


def test_unknown_values_in_the_address_are_dropped_and_the_country_is_shown(app: AppTest, demo_url: str) -> None:
    _open(app, region="99", profession="astronaute", page="abc", crise="peut-etre", alerte="ouverte")
    assert _current_crumb(app) == "**France**"
    assert app.query_params == {"alerte": "ouverte"}  # what was understood, and only that
    assert metrics(app) == _figures(_listed(demo_url, alert="open"))
    assert not app.error


# ---------------------------------------------------------------- going down and back up


def test_ticking_a_row_goes_down_one_level_at_a_time_down_to_a_mission(app: AppTest, demo_url: str) -> None:
    _open(app)
    regions = _levels(demo_url, "region")
    assert _tables(app)[0]["Région"].tolist() == [r["name"] for r in regions]
    assert _tables(app)[0]["Missions"].tolist() == [r["missions"] for r in regions]
    _tick(app, 0, 0)
    region = regions[0]
    assert app.query_params == {"region": region["code"]}
    assert _current_crumb(app) == f"**{region['name']}**"
    departments = _levels(demo_url, "department", ars_code=region["code"])
    assert _tables(app)[0]["Département"].tolist() == [f"{d['name']} ({d['code']})" for d in departments]
    assert metrics(app)["Missions ouvertes"] == fr_int(sum(d["missions"] for d in departments))
    _tick(app, 0, 0)
    department = departments[0]
    assert app.query_params == {"region": region["code"], "departement": department["code"]}
    establishments = _levels(demo_url, "establishment", department_code=department["code"])
    assert _tables(app)[0]["Missions"].tolist() == [e["missions"] for e in establishments]
    _tick(app, 0, 0)
    establishment = establishments[0]
    assert app.query_params["etablissement"] == str(establishment["code"])
    assert _current_crumb(app) == f"**{establishment['name']}**"
    (missions,) = _tables(app)  # the last level before a mission: its list only
    assert len(missions) == establishment["missions"]
    first = int(missions["id"].iloc[0])
    _tick(app, 0, 0)
    assert app.query_params["mission"] == str(first)
    assert _current_crumb(app) == f"**Mission n° {first}**"
    assert [label for label, _ in _crumbs(app)] == ["France", region["name"],
                                                     f"{department['name']} ({department['code']})",
                                                     establishment["name"]]
    assert _crumbs(app)[2][1] == {"region": region["code"], "departement": department["code"]}


def test_a_mission_shows_its_contact_to_the_ccs_and_not_to_the_ministry(app: AppTest, demo_url: str) -> None:
    with session_scope(demo_url) as session:
        mission = session.scalar(sa.select(m.Mission).where(m.Mission.status == "open", m.Mission.count > 0)
                                 .order_by(m.Mission.id))
        mission.contact_name, mission.contact_phone = "Dr Lucie Martin", "0240000000"
        mission_id = mission.id
    _open(app, CCS, mission=str(mission_id))
    shown = "\n".join(texts(app.main))
    assert "Dr Lucie Martin — 0240000000" in shown
    assert "Proposer des candidats" in [b.label for b in app.button]

    ministry = AppTest.from_file(app._script_path, default_timeout=30)
    _open(ministry, MINISTRY, mission=str(mission_id))
    shown = "\n".join(texts(ministry.main))
    assert "Lucie Martin" not in shown and "0240000000" not in shown
    assert "non communiqué au ministère (données pseudonymisées)" in shown
    assert "Proposer des candidats" not in [b.label for b in ministry.button]
    assert f"**Mission n° {mission_id}**" in texts(ministry.main)


def test_an_empty_result_says_what_to_change(app: AppTest, demo_url: str) -> None:
    _open(app, categorie="formation", alerte="ouverte")
    assert _listed(demo_url, category_code="formation", alert="open").total == 0
    assert any(text.startswith("Aucune mission ouverte ne correspond à ces filtres dans le pays. Retirez un filtre")
               for text in texts(app.main))
    next(b for b in app.button if b.label == "Retirer tous les filtres").click().run()
    assert app.query_params == {}
    assert metrics(app) == _figures(_listed(demo_url))


# ---------------------------------------------------------------- from « Vue nationale »


def test_a_department_clicked_on_the_national_map_opens_at_its_level_of_the_drill_down(
        app: AppTest, demo_url: str) -> None:
    code, name = _busiest_department(demo_url)
    signed_in(app, CCS, "ccs")
    open_page(app, "vue-nationale")
    app.session_state["national_map"] = {"selection": {"points": [{"location": code}], "point_indices": [],
                                                       "box": [], "lasso": []}}
    app.run()
    assert not app.exception, app.exception
    period = dashboard_period()
    link = next(link for link in app.get("page_link")
                if link.proto.label == "Ouvrir le département dans « Missions nationales »")
    opened = {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
    assert opened == {"region": reference.departements()[code].ars_code, "departement": code,
                      "du": period.start.isoformat(), "au": period.end.isoformat()}
    # What the link opens: that department, under the same period.
    drill = AppTest.from_file(app._script_path, default_timeout=30)
    _open(drill, **opened)
    assert _current_crumb(drill) == f"**{name} ({code})**"
    assert metrics(drill) == _figures(_listed(demo_url, department_code=code, period_start=period.start,
                                              period_end=period.end))
