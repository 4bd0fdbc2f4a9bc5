"""National figures against hand-counted fixtures."""

from __future__ import annotations

from core.figures.stats import national_figures
from db import models as m
from tests.factories import make_establishment, make_mission, make_professional, make_user


def test_home_figures_count_available_volunteers_open_needs_and_filled_posts(uow) -> None:
    with uow() as session:
        establishment = make_establishment(session)
        creator = make_user(session, establishment=establishment)
        open_three = make_mission(session, establishment, creator, count=3)
        make_mission(session, establishment, creator, count=2)
        make_mission(session, establishment, creator, count=0)  # placeholder of an account request
        make_mission(session, establishment, creator, count=4, status="closed")
        make_mission(session, establishment, creator, count=5, status="pending")
        assigned = make_professional(session, status="affecte")
        make_professional(session)
        make_professional(session)
        make_professional(session, status="indisponible")
        session.add(m.Proposal(mission_id=open_three.id, professional_id=assigned.id, state="affecte"))
    with uow() as session:
        figures = national_figures(session)
    assert figures.volunteers_available == 2
    assert figures.open_missions == 2
    assert figures.open_posts == (3 - 1) + 2
    assert figures.posts_filled == 1
