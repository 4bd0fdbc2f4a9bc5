"""« Toujours disponible ? » through the whole app (AppTest on app.py): the e-mailed link, signed out."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.access.tokens import issue_token
from core.shared.clock import utcnow
from core.volunteers.freshness import AVAILABILITY_LINK_LIFETIME
from db import models as m
from db.session import session_scope
from tests.readers import row_at
from tests.ui.conftest import open_page
from tests.ui.readers import button

VOLUNTEER = "benevole@example.org"


def _link(url: str, *, status: str = "disponible") -> tuple[str, int]:
    """A fresh « Toujours disponible ? » link of the demo volunteer (made available, confirmed long ago)."""
    with session_scope(url) as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == VOLUNTEER))
        professional = session.get(m.Professional, user.professional_id)
        session.execute(sa.update(m.Proposal).where(m.Proposal.professional_id == professional.id,
                                                    m.Proposal.state.in_(("contacte", "en_cours")))
                        .values(state="libere"))
        professional.status = status
        professional.availability_confirmed_at = utcnow() - timedelta(days=20)
        token = issue_token(session, user=user, purpose="availability", lifetime=AVAILABILITY_LINK_LIFETIME)
        return token, professional.id


def _open(app, token: str):  # noqa: ANN001, ANN202
    app.query_params["jeton"] = token
    app.run()
    return open_page(app, "toujours-disponible")


def test_opening_the_link_changes_nothing_and_the_volunteer_confirms(app, demo_url) -> None:
    token, professional_id = _link(demo_url)
    before = row_at(demo_url, m.Professional, professional_id).availability_confirmed_at
    _open(app, token)
    assert not app.exception
    assert app.title[0].value == "Toujours disponible ?"
    assert any(text.value.startswith("Bonjour ") and "statut : disponible" in text.value for text in app.markdown)
    assert row_at(demo_url, m.Professional, professional_id).availability_confirmed_at == before

    button(app, "Oui, toujours disponible").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "Merci ! Vos disponibilités sont confirmées : les établissements vous voient parmi les volontaires à jour."]
    assert row_at(demo_url, m.Professional, professional_id).availability_confirmed_at > before


def test_the_volunteer_pauses_the_profile_from_the_link(app, demo_url) -> None:
    token, professional_id = _link(demo_url)
    _open(app, token)
    button(app, "Mettre mon profil en pause").click().run()
    assert row_at(demo_url, m.Professional, professional_id).status == "indisponible"
    assert app.success[0].value.startswith("Votre profil est en pause")


def test_a_used_link_says_so_and_offers_to_sign_in(app, demo_url) -> None:
    token, _ = _link(demo_url)
    _open(app, token)
    button(app, "Oui, toujours disponible").click().run()
    fresh = type(app).from_file(app._script_path, default_timeout=30)
    _open(fresh, token)
    assert [e.value for e in fresh.error] == ["Ce lien a déjà été utilisé : votre réponse est enregistrée."]
    assert not [b for b in fresh.button if b.label == "Oui, toujours disponible"]


def test_a_volunteer_assigned_since_the_e_mail_confirms_and_is_sent_to_mes_missions(app, demo_url) -> None:
    token, professional_id = _link(demo_url, status="affecte")
    before = row_at(demo_url, m.Professional, professional_id).availability_confirmed_at
    _open(app, token)
    button(app, "Oui, toujours disponible").click().run()
    assert not app.exception and not app.error
    assert [s.value for s in app.success] == [
        "Merci ! Vos disponibilités sont confirmées. Retrouvez dans « Mes missions » la mission pour laquelle vous "
        "êtes sollicité(e) ou affecté(e)."]
    professional = row_at(demo_url, m.Professional, professional_id)
    assert (professional.status, professional.availability_confirmed_at > before) == ("affecte", True)
