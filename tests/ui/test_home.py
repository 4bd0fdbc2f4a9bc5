"""Home page and sign-in through the whole app (AppTest on app.py)."""

from __future__ import annotations

from core.figures.stats import national_figures
from db.session import session_scope
from navigation import all_specs
from ops.seed import DEMO_PASSWORD
from tests.ui.conftest import open_page, sign_in_as
from ui.format import fr_int


def _metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


PUBLIC_PATHS = {"", "demande-de-compte", "proposer-mon-aide", "connexion", "mot-de-passe-oublie",
                "activer-mon-compte", "toujours-disponible"}  # the last two are reached from e-mailed links


def _nav_paths(app) -> set[str]:
    return {info.get("url_pathname") for info in app._registered_pages.values()}


def test_the_home_page_shows_the_live_national_figures(app, demo_url) -> None:
    app.run()
    assert not app.exception
    with session_scope(demo_url) as session:
        figures = national_figures(session)
    assert figures.volunteers_available > 0 and figures.posts_filled > 0
    assert _metric(app, "Volontaires disponibles") == fr_int(figures.volunteers_available)
    assert _metric(app, "Besoins ouverts") == fr_int(figures.open_missions)
    assert _metric(app, "Postes à pourvoir") == fr_int(figures.open_posts)
    assert _metric(app, "Postes pourvus") == fr_int(figures.posts_filled)


def test_the_home_page_shows_both_public_entry_points(app) -> None:
    app.run()
    headings = [h.value for h in app.subheader]
    assert "Je suis une structure sanitaire ou médico-sociale et j'ai besoin de renfort" in headings
    assert "Je suis un professionnel de santé et je souhaite proposer mon aide" in headings


PROTECTED = {spec.url_path: spec.title for spec in all_specs()}
PROTECTED = {path: title for path, title in PROTECTED.items() if path not in PUBLIC_PATHS | {"accueil"}}


def test_a_signed_out_visitor_gets_the_sign_in_form_on_every_other_page(app) -> None:
    app.run()
    assert _nav_paths(app) == PUBLIC_PATHS | set(PROTECTED)
    for path, title in PROTECTED.items():
        open_page(app, path)
        assert not app.exception
        assert [t.value for t in app.title] == ["Se connecter"], path
        assert [i.value for i in app.info] == [
            f"La page « {title} » est réservée aux comptes connectés : connectez-vous pour l'ouvrir."]
        assert not app.dataframe and not app.metric and not app.get("plotly_chart")


def _sign_in_from(app, path: str, email: str):  # noqa: ANN001, ANN202
    """Open a page's URL signed out, then sign in with the form it shows."""
    app.run()
    open_page(app, path)
    app.text_input(key="login_email").input(email)
    app.text_input(key="login_password").input(DEMO_PASSWORD)
    next(b for b in app.button if b.label == "Se connecter").click()
    app.run()
    assert not app.exception
    return app


def test_signing_in_from_a_linked_page_opens_that_page(app) -> None:
    _sign_in_from(app, "affectations", "etablissement@example.org")
    assert [t.value for t in app.title] == ["Professionnels affectés"]


def test_signing_in_from_a_page_of_another_role_opens_the_first_page_of_ones_own(app) -> None:
    _sign_in_from(app, "mes-missions", "ars.paysdelaloire@example.org")
    assert [t.value for t in app.title] == ["Missions de la région"]


def test_the_first_page_of_a_role_keeps_its_own_url(app) -> None:
    """E-mails link to /tableau-de-bord and /mes-missions: the root is a separate landing page."""
    sign_in_as(app, "etablissement@example.org", "etablissement").run()
    assert [t.value for t in app.title] == ["Tableau de bord"]
    paths = _nav_paths(app)
    assert {"", "tableau-de-bord", "nouveau-besoin"} <= paths
    open_page(app, "tableau-de-bord")
    assert [t.value for t in app.title] == ["Tableau de bord"]


def _submit_sign_in(app, email: str, password: str):
    open_page(app, "connexion")
    app.text_input(key="login_email").input(email)
    app.text_input(key="login_password").input(password)
    next(b for b in app.button if b.label == "Se connecter").click()
    return app.run()


def test_signing_in_with_the_form_opens_the_first_page_of_the_role(app) -> None:
    app.run()
    _submit_sign_in(app, "ars.paysdelaloire@example.org", DEMO_PASSWORD)
    assert not app.exception
    assert [t.value for t in app.title] == ["Missions de la région"]
    open_page(app, "accueil")
    assert any("Bonjour Sophie" in s.value for s in app.success)
    assert any(b.label == "Se déconnecter" for b in app.sidebar.button)
    assert "connexion" not in _nav_paths(app)


def test_a_wrong_password_shows_a_french_error_and_keeps_the_email(app) -> None:
    app.run()
    _submit_sign_in(app, "ars.paysdelaloire@example.org", "Mauvais-Mot-2026!")
    assert [e.value for e in app.error] == ["Adresse électronique ou mot de passe incorrect."]
    assert app.text_input(key="login_email").value == "ars.paysdelaloire@example.org"
    assert app.text_input(key="login_password").value == ""


def test_signing_out_returns_to_the_home_page(app) -> None:
    sign_in_as(app, "ccs@example.org", "ccs").run()
    open_page(app, "indicateurs")
    next(b for b in app.sidebar.button if b.label == "Se déconnecter").click()
    app.run()
    assert not app.exception
    assert [t.value for t in app.title] == ["Renfort RH"]
    assert not any(b.label == "Se déconnecter" for b in app.sidebar.button)


def test_a_session_of_a_disabled_account_is_signed_out_at_once(app, demo_url) -> None:
    import sqlalchemy as sa

    from db import models as m

    sign_in_as(app, "ccs@example.org", "ccs").run()
    assert any(b.label == "Se déconnecter" for b in app.sidebar.button)
    with session_scope(demo_url) as session:
        session.execute(sa.update(m.User).where(m.User.email == "ccs@example.org").values(status="disabled"))
    app.run()
    assert not any(b.label == "Se déconnecter" for b in app.sidebar.button)
    assert app.session_state["authentication_status"] is None
