"""The view of « Missions nationales » and its address (ui/drill_down.py): what a shared link or a reload restores."""

from __future__ import annotations

from datetime import date

from core.figures.national_missions import NationalFilters, Place
from ui.drill_down import Crumb, View, crumbs

FULL = View(ars_code="52", department_code="44", establishment_id=7, profession_code="infirmier_de",
            category_code="sociaux_hebergement", period_start=date(2026, 12, 1), period_end=date(2026, 12, 31),
            urgency_levels=("tres_urgente", "urgente"), alert="open", crisis=False, page=3)


def test_a_view_and_its_address_give_each_other_back() -> None:
    params = FULL.to_params()
    assert params == {"region": "52", "departement": "44", "etablissement": "7", "profession": "infirmier_de",
                      "categorie": "sociaux_hebergement", "du": "2026-12-01", "au": "2026-12-31",
                      "urgence": "tres_urgente,urgente", "alerte": "ouverte", "crise": "non", "page": "3"}
    assert View.from_params(params) == FULL


def test_the_default_view_has_an_empty_address() -> None:
    assert View().to_params() == {} and View.from_params({}) == View()
    assert View().level == "france"


def test_unknown_or_malformed_values_are_dropped_never_an_error() -> None:
    typed = {"region": "99", "departement": "975", "etablissement": "-3", "mission": "x", "profession": "astronaute",
             "categorie": "1; DROP", "du": "31/12/2026", "au": "2026-02-30", "urgence": "tres_urgente,panique",
             "alerte": "rouge", "crise": "peut-etre", "page": "0"}
    assert View.from_params(typed) == View(urgency_levels=("tres_urgente",))


def test_a_period_ending_before_it_starts_is_dropped() -> None:
    assert View.from_params({"du": "2026-12-31", "au": "2026-12-01"}).period_start is None


def test_the_level_is_the_most_precise_place_named() -> None:
    assert [View(ars_code="52").level, View(department_code="44").level, View(establishment_id=1).level,
            View(establishment_id=1, mission_id=2).level] == ["region", "department", "establishment", "mission"]


def test_the_filters_handed_to_the_service_are_the_views() -> None:
    assert FULL.filters() == NationalFilters(
        ars_code="52", department_code="44", establishment_id=7, profession_code="infirmier_de",
        category_code="sociaux_hebergement", period_start=date(2026, 12, 1), period_end=date(2026, 12, 31),
        urgency_levels=("tres_urgente", "urgente"), alert="open", crisis=False)


def test_breadcrumbs_link_each_level_above_with_the_same_filters_on_their_first_page() -> None:
    view = View(mission_id=12, profession_code="infirmier_de", page=2)
    place = Place("52", "Pays de la Loire", "44", "Loire-Atlantique", 7, "CHU de Nantes")
    trail = crumbs(view, place)
    assert [c.label for c in trail] == ["France", "Pays de la Loire", "Loire-Atlantique (44)", "CHU de Nantes",
                                        "Mission n° 12"]
    assert trail[-1] == Crumb("Mission n° 12", None)
    assert [c.view.to_params() for c in trail[:-1]] == [
        {"profession": "infirmier_de"},
        {"region": "52", "profession": "infirmier_de"},
        {"region": "52", "departement": "44", "profession": "infirmier_de"},
        {"region": "52", "departement": "44", "etablissement": "7", "profession": "infirmier_de"}]


def test_the_current_level_is_the_last_crumb_and_no_link() -> None:
    trail = crumbs(View(department_code="44"), Place("52", "Pays de la Loire", "44", "Loire-Atlantique"))
    assert [(c.label, c.view is None) for c in trail] == [("France", False), ("Pays de la Loire", False),
                                                          ("Loire-Atlantique (44)", True)]
    assert crumbs(View(), Place()) == [Crumb("France", None)]
