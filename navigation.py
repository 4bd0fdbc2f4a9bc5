"""The page list of each role, built at every run from the signed-in user (DESIGN §8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.mail.emails import CAMPAIGNS_PATH
from core.shared.actor import SessionUser
from pages import (
    account_request,
    account_validation,
    accounts,
    activate_account,
    alerts,
    archives,
    assignments,
    availability_check,
    campaign_dossiers,
    campaigns,
    choose,
    crisis,
    dashboard,
    establishment_import,
    establishment_pool,
    exports,
    forgot_password,
    home,
    indicators,
    journal,
    my_profile,
    national,
    national_missions,
    new_need,
    outbox,
    pool_indicators,
    pool_propose,
    pool_queue,
    pool_roster,
    pools,
    propose,
    region_missions,
    region_professionals,
    sign_in,
    simulation,
    volunteer_missions,
    volunteer_signup,
    volunteers_admin,
)
from ui.auth import just_signed_out, signed_in_here
from ui.links import PAGES_KEY, switch_to


@dataclass(frozen=True)
class PageSpec:
    render: Callable[[], None]
    title: str
    url_path: str
    icon: str
    hidden: bool = False  # reached by a link (e-mail), not listed in the menu


HOME = PageSpec(home.render, "Accueil", "accueil", ":material/home:")
SIGN_IN = PageSpec(sign_in.render, "Se connecter", "connexion", ":material/login:")

ACCOUNT_REQUEST = PageSpec(account_request.render, "Demande de compte établissement", "demande-de-compte",
                           ":material/domain_add:")
VOLUNTEER_SIGNUP = PageSpec(volunteer_signup.render, "Proposer mon aide", "proposer-mon-aide",
                            ":material/volunteer_activism:")
FORGOT_PASSWORD = PageSpec(forgot_password.render, "Mot de passe oublié", "mot-de-passe-oublie", ":material/key:")
ACTIVATE = PageSpec(activate_account.render, "Activer mon compte", "activer-mon-compte", ":material/lock_open:",
                    hidden=True)
AVAILABILITY = PageSpec(availability_check.render, "Toujours disponible ?", "toujours-disponible",
                        ":material/event_available:", hidden=True)
ACCOUNT_VALIDATION = PageSpec(account_validation.render, "Validation des comptes", "validation-des-comptes",
                              ":material/how_to_reg:")
DASHBOARD = PageSpec(dashboard.render, "Tableau de bord", "tableau-de-bord", ":material/dashboard:")
NEW_NEED = PageSpec(new_need.render, "Nouveau besoin", "nouveau-besoin", ":material/add_circle:")
CHOOSE = PageSpec(choose.render, "Choisir des renforts", "choisir", ":material/person_search:")
ASSIGNMENTS = PageSpec(assignments.render, "Voir affectation professionnels", "affectations", ":material/badge:")
VOLUNTEER_MISSIONS = PageSpec(volunteer_missions.render, "Mes missions", "mes-missions", ":material/work:")
PROFILE = PageSpec(my_profile.render, "Mon profil", "mon-profil", ":material/person:")
REGION_MISSIONS = PageSpec(region_missions.render, "Missions de la région", "missions-region", ":material/format_list_numbered:")
PROPOSE = PageSpec(propose.render, "Proposer des candidats", "proposer", ":material/send:")
REGION_PROFESSIONALS = PageSpec(region_professionals.render, "Professionnels de la région", "professionnels",
                                ":material/groups:")
CRISIS = PageSpec(crisis.render, "Gestion de crise", "gestion-de-crise", ":material/emergency:")
NATIONAL = PageSpec(national.render, "Vue nationale", "vue-nationale", ":material/public:")
NATIONAL_MISSIONS = PageSpec(national_missions.render, "Missions nationales", "missions-nationales",
                             ":material/travel_explore:")
INDICATORS = PageSpec(indicators.render, "Indicateurs", "indicateurs", ":material/monitoring:")
ALERTS = PageSpec(alerts.render, "Alertes des ARS", "alertes", ":material/campaign:")
REGION_ALERTS = PageSpec(alerts.render_region, "Alertes au CCS", "alertes-au-ccs", ":material/campaign:")
OUTBOX = PageSpec(outbox.render, "Courriels", "courriels", ":material/mail:")
EXPORTS = PageSpec(exports.render, "Exports", "exports-de-donnees", ":material/download:")
ACCOUNTS = PageSpec(accounts.render, "Comptes", "comptes", ":material/manage_accounts:")
IMPORT = PageSpec(establishment_import.render, "Import d'établissements", "import-etablissements",
                  ":material/upload_file:")
JOURNAL = PageSpec(journal.render, "Journal", "journal-des-actions", ":material/history:")
ARCHIVES = PageSpec(archives.render, "Archivage des missions", "archivage", ":material/inventory_2:")
VOLUNTEERS = PageSpec(volunteers_admin.render, "Volontaires", "volontaires", ":material/person_search:")
POOL_QUEUE = PageSpec(pool_queue.render, "File des besoins", "file-des-besoins", ":material/format_list_numbered:")
POOL_PROPOSE = PageSpec(pool_propose.render, "Proposer des membres du vivier", "proposer-vivier", ":material/send:")
POOL_ROSTER = PageSpec(pool_roster.render, "Vivier", "vivier", ":material/groups:")
POOL_INDICATORS = PageSpec(pool_indicators.render, "Indicateurs de la plateforme", "indicateurs-plateforme",
                           ":material/monitoring:")
POOLS = PageSpec(pools.render, "Plateformes territoriales", "plateformes-territoriales", ":material/hub:")
ESTABLISHMENT_POOL = PageSpec(establishment_pool.render, "Plateforme territoriale", "ma-plateforme-territoriale",
                              ":material/hub:")
CAMPAIGN_DOSSIERS = PageSpec(campaign_dossiers.render, "Appels à candidatures", CAMPAIGNS_PATH, ":material/assignment:")
CAMPAIGNS = PageSpec(campaigns.render, "Appels à candidatures", CAMPAIGNS_PATH, ":material/assignment:")
SIMULATION = PageSpec(simulation.render, "Simulation", "simulation-de-crise", ":material/science:")
LANDING_PATH = "bienvenue"

PUBLIC_PAGES: dict[str, list[PageSpec]] = {
    "Renfort RH": [HOME, ACCOUNT_REQUEST, VOLUNTEER_SIGNUP, SIGN_IN, FORGOT_PASSWORD, ACTIVATE, AVAILABILITY],
}

ROLE_PAGES: dict[str, dict[str, list[PageSpec]]] = {
    "etablissement": {"Mon établissement": [DASHBOARD, NEW_NEED, CHOOSE, ASSIGNMENTS, ESTABLISHMENT_POOL, CAMPAIGN_DOSSIERS, EXPORTS]},
    "professionnel": {"Mon espace": [VOLUNTEER_MISSIONS, PROFILE]},
    "ars": {"Régulation": [REGION_MISSIONS, PROPOSE, REGION_PROFESSIONALS, CRISIS, REGION_ALERTS, ACCOUNT_VALIDATION,
                           INDICATORS, POOLS, CAMPAIGNS],
            "Données et comptes": [EXPORTS, ACCOUNTS, IMPORT, JOURNAL]},
    "ccs": {"National": [NATIONAL, NATIONAL_MISSIONS, ALERTS, ACCOUNT_VALIDATION, SIMULATION],
            "Régions": [REGION_MISSIONS, PROPOSE, REGION_PROFESSIONALS, CRISIS, INDICATORS, POOLS, CAMPAIGNS],
            "Données et comptes": [EXPORTS, ACCOUNTS, IMPORT, JOURNAL]},
    "ministere": {"Consultation": [NATIONAL, NATIONAL_MISSIONS, INDICATORS, REGION_MISSIONS, POOLS, CAMPAIGNS, EXPORTS]},
    "pool": {"Plateforme territoriale": [POOL_QUEUE, POOL_PROPOSE, POOL_ROSTER, POOL_INDICATORS]},
    "admin": {"Administration": [OUTBOX, ACCOUNTS, VOLUNTEERS, IMPORT, ARCHIVES, JOURNAL],
              "Consultation": [NATIONAL, NATIONAL_MISSIONS, INDICATORS, CAMPAIGNS]},
}


def all_specs() -> list[PageSpec]:
    """Every page of the app once: the public ones, then those of each role."""
    specs = [s for section in PUBLIC_PAGES.values() for s in section]
    specs += [s for sections in ROLE_PAGES.values() for section in sections.values() for s in section]
    return list(dict.fromkeys(specs))


def _sign_in_first(spec: PageSpec) -> PageSpec:
    """A visitor's stand-in for a signed-in page: the sign-in form, never the page itself.

    The e-mails link to pages such as « Tableau de bord »: opened signed out, the link shows this form
    at the same URL, and once signed in the same URL runs the real page of the role.
    """
    def render() -> None:
        sign_in.render(notice=f"La page « {spec.title} » est réservée aux comptes connectés : "
                              "connectez-vous pour l'ouvrir.")
    return PageSpec(render, spec.title, spec.url_path, spec.icon, hidden=True)


def sections_for(user: SessionUser | None) -> dict[str, list[PageSpec]]:
    if user is None:
        public = {spec.url_path for spec in PUBLIC_PAGES["Renfort RH"]}
        # one stand-in per address: the establishment's and the ARS's « Appels à candidatures » share theirs
        by_path = {spec.url_path: spec for spec in all_specs() if spec.url_path not in public}
        stand_ins = [_sign_in_first(spec) for spec in by_path.values()]
        return {"Renfort RH": [*PUBLIC_PAGES["Renfort RH"], *stand_ins]}
    # The e-mailed links (password, « Toujours disponible ? ») must open for anyone: an admin following one
    # from « Courriels », or a user whose browser is still signed in. The password page tells a signed-in
    # stranger to sign out; the availability link answers for its owner whoever is signed in.
    return {**ROLE_PAGES.get(user.role, {}), "Renfort RH": [HOME, ACTIVATE, AVAILABILITY]}


def _default_spec(user: SessionUser | None) -> PageSpec:
    """Where a user lands: the first page of their role (the home page for visitors)."""
    sections = ROLE_PAGES.get(user.role, {}) if user else {}
    return next((specs[0] for specs in sections.values() if specs), HOME)


def _landing(target: PageSpec) -> PageSpec:
    """The root URL of a signed-in user, which sends them on to the first page of their role.

    Streamlit serves its default page at "/" only, not at its own path: were the role's first page
    the default, its link in an e-mail (/tableau-de-bord, /mes-missions) or a reload of it would
    answer "Page not found". This hidden page takes the root instead, so every page keeps its URL.
    """
    return PageSpec(lambda: switch_to(target.url_path), target.title, LANDING_PATH, target.icon, hidden=True)


def build_navigation(user: SessionUser | None):  # noqa: ANN201 - streamlit's StreamlitPage
    """st.navigation with only the pages this user may see; remembers them for page links."""
    pages: dict[str, st.Page] = {}
    sections: dict[str, list[st.Page]] = {}
    specs_by_section = sections_for(user)
    if user is None:
        default = HOME
        if just_signed_out():
            specs_by_section = PUBLIC_PAGES  # this run only: from any page, sign-out lands on the home page
    elif signed_in_here():
        # Signed in by the form in this browser session: the first page of the role is the default page itself,
        # at "/", for the rest of the session. The run of the sign-in draws it there (the sign-in page is not
        # one of the user's) and writes the session cookie: sent on by the landing to its own address, the
        # page would be built and drawn a second time (the « Vue nationale », its maps with it), and the
        # cookie's script dropped. A reload opens a new session, which the landing serves.
        default = _default_spec(user)
    else:
        default = _landing(_default_spec(user))
        specs_by_section["Renfort RH"] = [*specs_by_section["Renfort RH"], default]
    for section, specs in specs_by_section.items():
        for spec in specs:
            page = st.Page(spec.render, title=spec.title, url_path=spec.url_path, icon=spec.icon,
                           default=spec is default, visibility="hidden" if spec.hidden else "visible")
            pages[spec.url_path] = page
            sections.setdefault(section, []).append(page)
    st.session_state[PAGES_KEY] = pages
    # expanded: every page listed, never Streamlit's English « View 3 more » link under a long menu
    return st.navigation(sections, expanded=True)

