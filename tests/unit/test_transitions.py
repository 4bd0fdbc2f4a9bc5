"""The state machines' tables (core.staffing.transitions): which buttons a candidate row and a mission offer."""

from __future__ import annotations

import pytest

from core.shared.actions import Action, common
from core.staffing.transitions import candidate_actions, establishment_mission_actions

CONTACT, VALIDATE, REFUSE, SHEET = Action.CONTACT, Action.VALIDATE, Action.REFUSE, Action.SHEET


def _establishment(state: str | None, status: str) -> dict:
    return {"actions": candidate_actions("establishment", "etablissement", state, status)}


@pytest.mark.parametrize(("rows", "expected"), [
    # nothing ticked: every button off
    ([], set()),
    # one available volunteer: contact and sheet
    ([(None, "disponible")], {CONTACT, SHEET}),
    # pushed by the ARS to this mission: contact (takes the push) or refuse
    ([("en_cours", "en_cours")], {CONTACT, REFUSE, SHEET}),
    # contacted for this mission: validate or refuse, not contact again
    ([("contacte", "contacte")], {VALIDATE, REFUSE, SHEET}),
    # already assigned: only the sheet
    ([("affecte", "affecte")], {SHEET}),
    # no proposal here but reserved or unavailable elsewhere: no contact
    ([(None, "contacte")], {SHEET}),
    ([(None, "indisponible")], {SHEET}),
    # several rows: a button acts on all of them or on none
    ([(None, "disponible"), (None, "disponible")], {CONTACT, SHEET}),
    ([(None, "disponible"), ("en_cours", "en_cours")], {CONTACT, SHEET}),
    ([("contacte", "contacte"), ("contacte", "contacte")], {VALIDATE, REFUSE, SHEET}),
    ([("contacte", "contacte"), ("en_cours", "en_cours")], {REFUSE, SHEET}),
    ([(None, "disponible"), ("contacte", "contacte")], {SHEET}),
    ([("contacte", "contacte"), ("affecte", "affecte")], {SHEET}),
])
def test_the_buttons_an_establishment_gets_for_a_selection(rows, expected) -> None:  # noqa: ANN001
    assert common([_establishment(state, status) for state, status in rows]) == expected


@pytest.mark.parametrize(("role", "state", "status", "expected"), [
    ("ars", None, "disponible", {Action.PUSH, Action.ASSIGN, SHEET}),
    ("ars", "contacte", "contacte", {Action.ASSIGN, SHEET}),
    ("ars", "en_cours", "en_cours", {Action.ASSIGN, SHEET}),
    ("ars", "affecte", "affecte", {SHEET}),
    # the CCS proposes, but only the region's ARS records an assignment for the establishment
    ("ccs", None, "disponible", {Action.PUSH, SHEET}),
    ("ccs", "contacte", "contacte", {SHEET}),
])
def test_the_buttons_a_regulator_gets(role, state, status, expected) -> None:  # noqa: ANN001
    assert candidate_actions("regulator", role, state, status) == expected


def test_a_reader_who_is_neither_side_gets_nothing() -> None:
    assert candidate_actions("ministry", "ministere", None, "disponible") == frozenset()


@pytest.mark.parametrize(("status", "count", "assigned", "allowed", "refused"), [
    ("open", 2, 0, {Action.CHOOSE, Action.EDIT, Action.DUPLICATE, Action.CLOSE}, {}),
    ("open", 2, 1, {Action.CHOOSE, Action.DUPLICATE, Action.CLOSE}, {Action.EDIT}),
    ("open", 0, 0, {Action.EDIT, Action.DUPLICATE, Action.CLOSE}, {Action.CHOOSE}),
    ("filled", 1, 1, {Action.DUPLICATE, Action.CLOSE}, {Action.CHOOSE, Action.EDIT}),
    ("pending", 1, 0, {Action.EDIT, Action.DUPLICATE, Action.CLOSE}, {Action.CHOOSE}),
    ("closed", 1, 0, {Action.DUPLICATE}, {Action.CHOOSE, Action.EDIT, Action.CLOSE}),
    ("archived", 1, 0, {Action.DUPLICATE}, {Action.CHOOSE, Action.EDIT, Action.CLOSE}),
])
def test_a_mission_on_its_dashboard_says_what_it_allows_and_why_not(status, count, assigned, allowed,  # noqa: ANN001
                                                                   refused) -> None:  # noqa: ANN001
    actions, why_not = establishment_mission_actions(status, count, assigned)
    assert actions == allowed
    assert set(why_not) == set(refused) and all(why_not.values())


def test_the_reasons_a_mission_gives_are_the_ones_its_services_raise() -> None:
    _, filled = establishment_mission_actions("filled", 1, 1)
    assert filled[Action.CHOOSE] == "Mission pourvue : plus de renfort à choisir."
    _, assigned = establishment_mission_actions("open", 3, 2)
    assert assigned[Action.EDIT].startswith("2 professionnel(s) sont déjà affectés à cette mission")
