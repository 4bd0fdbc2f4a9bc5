"""« Missions nationales »: the view (the level of the drill-down, the filters and the page number) and its URL.

The whole view lives in the address (st.query_params), so that a link shared by e-mail or a reload shows the same
thing. `View.from_params` reads an address as typed by anyone: an unknown or malformed value is dropped (the
view then shows more, never an error), and `to_params` writes only what differs from the default view. Both
are pure (tests/unit/test_drill_down.py); `view_link` draws a link to a view.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import streamlit as st

from core.figures.national_missions import URGENCY_LABELS, NationalFilters, Place
from core.places import reference
from ui.links import PAGES_KEY

URL_PATH = "missions-nationales"
ALERT_WORDS = {"ouverte": "open", "aucune": "none"}  # in the address → core's keys
CRISIS_WORDS = {"oui": True, "non": False}
PLACE_FIELDS = ("ars_code", "department_code", "establishment_id", "mission_id")


@dataclass(frozen=True)
class View:
    ars_code: str | None = None
    department_code: str | None = None
    establishment_id: int | None = None
    mission_id: int | None = None
    profession_code: str | None = None
    category_code: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    urgency_levels: tuple[str, ...] = field(default=())
    alert: str | None = None  # core's key: "open" or "none"
    crisis: bool | None = None
    page: int = 1  # from 1

    @property
    def level(self) -> str:
        """Where the drill-down stands: france, region, department, establishment or mission."""
        if self.mission_id is not None:
            return "mission"
        if self.establishment_id is not None:
            return "establishment"
        if self.department_code is not None:
            return "department"
        return "region" if self.ars_code is not None else "france"

    def filters(self) -> NationalFilters:
        return NationalFilters(ars_code=self.ars_code, department_code=self.department_code,
                               establishment_id=self.establishment_id, profession_code=self.profession_code,
                               category_code=self.category_code, period_start=self.period_start,
                               period_end=self.period_end, urgency_levels=self.urgency_levels, alert=self.alert,
                               crisis=self.crisis)

    def at(self, place: Place, mission_id: int | None = None) -> View:
        """The same filters at another place, on its first page."""
        return replace(self, ars_code=place.ars_code, department_code=place.department_code,
                       establishment_id=place.establishment_id, mission_id=mission_id, page=1)

    def without_filters(self) -> View:
        """The same place, every filter removed."""
        return View(self.ars_code, self.department_code, self.establishment_id, self.mission_id)

    # ------------------------------------------------------------ the address

    @classmethod
    def from_params(cls, params: dict[str, str]) -> View:
        departments = reference.departements()
        department = params.get("departement")
        start, end = _day(params.get("du")), _day(params.get("au"))
        if start and end and end < start:
            start = end = None
        return cls(
            ars_code=_known(params.get("region"), reference.ars_names()),
            department_code=department if department in departments and departments[department].ars_code else None,
            establishment_id=_positive(params.get("etablissement")),
            mission_id=_positive(params.get("mission")),
            profession_code=_known(params.get("profession"), reference.profession_labels()),
            category_code=_known(params.get("categorie"), reference.category_labels()),
            period_start=start, period_end=end,
            urgency_levels=tuple(level for level in URGENCY_LABELS
                                 if level in (params.get("urgence") or "").split(",")),
            alert=ALERT_WORDS.get(params.get("alerte", "")),
            crisis=CRISIS_WORDS.get(params.get("crise", "")),
            page=_positive(params.get("page")) or 1,
        )

    def to_params(self) -> dict[str, str]:
        values = {
            "region": self.ars_code, "departement": self.department_code,
            "etablissement": _text(self.establishment_id), "mission": _text(self.mission_id),
            "profession": self.profession_code, "categorie": self.category_code,
            "du": _text(self.period_start), "au": _text(self.period_end),
            "urgence": ",".join(self.urgency_levels) or None,
            "alerte": next((word for word, key in ALERT_WORDS.items() if key == self.alert), None),
            "crise": next((word for word, flag in CRISIS_WORDS.items() if flag is self.crisis), None),
            "page": str(self.page) if self.page > 1 else None,
        }
        return {name: value for name, value in values.items() if value}


def _known(value: str | None, known: dict[str, str]) -> str | None:
    return value if value in known else None


def _positive(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**31 else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return None if value is None else str(value) if not isinstance(value, date) else value.isoformat()


# ---------------------------------------------------------------- breadcrumbs


@dataclass(frozen=True)
class Crumb:
    label: str
    view: View | None  # None: the level shown now (not a link)


def crumbs(view: View, place: Place) -> list[Crumb]:
    """« France › Région › Département (code) › Établissement › Mission », each but the last a link to its level
    with the same filters. `place` is where the view stands, as the service resolved it."""
    trail = [("France", Place())]
    if place.ars_code:
        trail.append((place.region or place.ars_code, Place(place.ars_code, place.region)))
    if place.department_code:
        trail.append((f"{place.department} ({place.department_code})",
                      Place(place.ars_code, place.region, place.department_code, place.department)))
    if place.establishment_id is not None:
        trail.append((place.establishment or "Établissement", place))
    links = [Crumb(label, view.at(level)) for label, level in trail]
    if view.mission_id is not None:
        return [*links, Crumb(f"Mission n° {view.mission_id}", None)]
    return [*links[:-1], Crumb(links[-1].label, None)]


def view_link(label: str, view: View, *, icon: str | None = None) -> bool:
    """A link to « Missions nationales » on this view, if the signed-in user has the page (False otherwise)."""
    page = st.session_state.get(PAGES_KEY, {}).get(URL_PATH)
    if page is None:
        return False
    st.page_link(page, label=label, icon=icon, query_params=view.to_params())
    return True
