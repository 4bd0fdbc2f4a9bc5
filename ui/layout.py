"""Page frame shared by every page: logo, sidebar card of the signed-in user, style."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.orm import Session

from core.places import reference
from core.shared.actor import SessionUser
from core.shared.config import ASSETS
from core.shared.errors import ServiceUnavailable
from core.shared.permissions import own_region
from core.staffing.missions import establishment_for, establishment_of_my_mission, my_establishments
from ui.actions import read
from ui.auth import sign_out_callback
from ui.labels import ROLE_LABELS
from ui.links import linked_mission
from ui.markdown import md

T = TypeVar("T")

CSS = """
<style>
  [data-testid="stHeading"] h1 { color: #000091; }
  /* The session cookie's script (ui/auth.py): it has run once drawn, it takes no room in the page. */
  .stElementContainer:has(.renfort-session-cookie) { display: none; }
  div[data-testid="stMetricValue"] { color: #000091; }
  .renfort-badge { display:inline-block; padding:0 .5rem; border-radius:.25rem; font-size:.8rem;
                   font-weight:700; background:#E3E3FD; color:#000091; }
  .renfort-footer { color:#666; font-size:.8rem; margin-top:2rem; }
  /* The file uploader speaks English ("Upload", "64MB per file"): every uploader of the app takes a
     volunteer's document, whose limit (5 Mo, checked by core.volunteers.documents) is said in French instead. */
  [data-testid="stFileUploaderDropzone"] button p, [data-testid="stFileUploaderDropzoneInstructions"] span
    { font-size: 0; }
  [data-testid="stFileUploaderDropzone"] button p::after { content: "Choisir un fichier"; font-size: .875rem; }
  [data-testid="stFileUploaderDropzoneInstructions"] span::after
    { content: "PDF, JPEG ou PNG — 5 Mo au plus"; font-size: .875rem; }
  /* An uploaded file's size in English units ("39.0B", "0.7KB"): its name is enough, core checks the size. */
  [data-testid="stFileUploaderFileData"] small { display: none; }
  /* The toolbars of tables and charts (search, CSV download, full screen, zoom, PNG) have English tooltips and
     duplicate the app's own filters and exports: hidden. */
  [data-testid="stElementToolbar"], .modebar-container { display: none !important; }
  /* Date fields: Streamlit writes the empty segments of format="DD/MM/YYYY" in English (« dd / mm / yyyy ») whatever
     the browser's language; shown as « jj / mm / aaaa » (the month's « mm » is the same in French). */
  [data-testid="stDateInput"] [data-placeholder="true"]:is([data-type="day"], [data-type="year"]) { font-size: 0; }
  [data-testid="stDateInput"] [data-placeholder="true"][data-type="day"]::after { content: "jj"; font-size: 1rem; }
  [data-testid="stDateInput"] [data-placeholder="true"][data-type="year"]::after { content: "aaaa"; font-size: 1rem; }
  /* The element that carries FRENCH_LABELS below (and the maps' empty world): its script has run once drawn, it
     takes no room in the page. */
  .stElementContainer:has(.renfort-french-labels) { display: none; }
</style>
"""

# The labels Streamlit and its map library give controls that have no visible text — a dialog's « Close », a date
# field's « Choose date », the map's « Zoom In » — are read aloud (and shown as tooltips) in English: translated in
# the browser, again whenever a redraw puts the English back. The page also says it is in French (lang), so that a
# screen reader pronounces it in French and the browser offers no translation.
FRENCH_LABELS = """
<span class="renfort-french-labels"></span>
<script>
// plotly's SVG maps (ui.charts.choropleth) fetch an outline of the world from cdn.plot.ly unless the page holds one:
// they draw only the departments' own outlines, so an empty world is given — nothing is fetched, offline or not.
window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
window.PlotlyGeoAssets.topojson.world_110m = window.PlotlyGeoAssets.topojson.world_110m
  || {type: "Topology", objects: {}, arcs: []};
(() => {
  if (window.renfortFrenchLabels) return;
  window.renfortFrenchLabels = true;
  const WORDS = {"Close": "Fermer", "Choose date": "Choisir une date", "Choose date range": "Choisir les dates",
                 "Zoom In": "Zoom avant", "Zoom Out": "Zoom arrière", "Toggle attribution": "Crédits de la carte",
                 "Fullscreen": "Plein écran", "Map": "Carte", "Mapbox logo": "Logo Mapbox", "Empty": "vide",
                 "file upload": "Déposer un fichier", "Navigate to home page": "Aller à l'accueil",
                 "App pages": "Pages de l'application", "Sidebar": "Barre latérale"};
  const PARTS = [[/^Help for /, "Aide : "], [/^day, /, "jour, "], [/^month, /, "mois, "], [/^year, /, "année, "],
                 [/ start date$/, " — date de début"], [/ end date$/, " — date de fin"]];
  const ATTRIBUTES = ["aria-label", "title", "aria-valuetext"];
  const translate = (element) => {
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      if (!value) continue;
      let french = WORDS[value] ?? value;
      for (const [english, words] of PARTS) french = french.replace(english, words);
      if (french !== value) element.setAttribute(name, french);
    }
  };
  const sweep = (node) => {
    if (node.nodeType !== 1) return;
    translate(node);
    node.querySelectorAll("[aria-label], [title], [aria-valuetext]").forEach(translate);
  };
  document.documentElement.lang = "fr";
  new MutationObserver((records) => records.forEach((record) =>
    record.type === "attributes" ? translate(record.target) : record.addedNodes.forEach(sweep)
  )).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ATTRIBUTES});
  sweep(document.body);
})();
</script>
"""


def setup_page() -> None:
    st.set_page_config(
        page_title="Renfort RH",
        page_icon=str(ASSETS / "icon.svg"),
        layout="wide",
        initial_sidebar_state="expanded",
    )
    st.logo(str(ASSETS / "logo.svg"), size="large", icon_image=str(ASSETS / "icon.svg"))
    st.html(CSS)
    st.html(FRENCH_LABELS, unsafe_allow_javascript=True)  # our own constant script, never user content


CURRENT_ESTABLISHMENT = "current_establishment"


@contextmanager
def outage_notice() -> Iterator[None]:
    """The database out of reach during a run, outside an action (the signed-in user read back, a list): the
    French message in place of the page rather than a crash; the next run tries again."""
    try:
        yield
    except ServiceUnavailable as error:
        st.error(error.message, icon=":material/cloud_off:")


def _establishment_choice(user: SessionUser) -> None:
    """A user managing several establishments picks the current one here."""
    if len(user.establishment_ids) < 2:
        return
    names = read(my_establishments)
    if not names:
        return
    linked = linked_mission()
    own = read(establishment_of_my_mission, mission_id=linked) if linked is not None else None
    if own in names:  # an e-mail's link to a mission of another of the user's establishments: switch to it
        st.session_state[CURRENT_ESTABLISHMENT] = own
    if st.session_state.get(CURRENT_ESTABLISHMENT) not in names:
        st.session_state[CURRENT_ESTABLISHMENT] = next(iter(names))
    st.selectbox("Établissement", list(names), format_func=names.get, key=CURRENT_ESTABLISHMENT, placeholder="Choisissez dans la liste")


def current_establishment(user: SessionUser) -> int | None:
    """The establishment the pages work on: the chosen one, or the only one."""
    chosen = st.session_state.get(CURRENT_ESTABLISHMENT)
    if chosen in user.establishment_ids:
        return chosen
    return user.establishment_ids[0] if user.establishment_ids else None


def establishment_or_notice(user: SessionUser) -> int | None:
    """The current establishment, or a notice (and None) for an account attached to none."""
    establishment_id = current_establishment(user)
    if establishment_id is None:
        st.info("Votre compte n'est rattaché à aucun établissement.")
    return establishment_id


def establishment_data(user: SessionUser, fetch: Callable[..., T]) -> tuple[Any, T] | None:
    """The current establishment and what `fetch(session, actor=…, establishment_id=…)` reads of it, or None
    once a notice or a refusal is shown."""
    establishment_id = establishment_or_notice(user)
    if establishment_id is None:
        return None

    def both(session: Session, *, actor: SessionUser | None) -> tuple[Any, T]:
        return (establishment_for(session, actor=actor, establishment_id=establishment_id),
                fetch(session, actor=actor, establishment_id=establishment_id))

    return read(both)


def sidebar(user: SessionUser | None) -> None:
    with st.sidebar:
        if user is None:
            st.caption("Plateforme nationale de renforts en personnels de santé.")
            return
        region = own_region(user)
        role = f"ARS {reference.ars_names().get(region, region)}" if region else ROLE_LABELS.get(user.role, user.role)
        st.markdown(f"**{md(user.display_name)}**  \n{role}")
        _establishment_choice(user)
        st.button("Se déconnecter", key="sign_out", on_click=sign_out_callback,
                  icon=":material/logout:", width="stretch")
