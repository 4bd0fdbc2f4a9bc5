"""Driving the app with Streamlit's AppTest: shared by the UI tests and the benchmark's page measurements.

Checked against Streamlit 1.67.0. Our pages are functions registered by st.navigation under a url_path
(pages/__init__.py, STACK-NOTES « Streamlit pages and security »), and AppTest's public switch_page() only
resolves *file* pages (it matches a page's script_path, which a function page has not). `open_page` therefore
selects a page the way a browser does, by the hash of its registered URL path, through two private attributes
of AppTest: `_registered_pages` (hash → page info) and `_page_hash` (the page the next run is asked for).
tests/ui/test_apptest_driver.py fails loudly when an upgrade changes either, or when switch_page() learns
function pages (this module can then go).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from navigation import all_specs


def sign_in_as(app: AppTest, email: str, role: str) -> AppTest:
    """Preset the session as ui.auth leaves it after a sign-in (see STACK-NOTES)."""
    app.session_state["authentication_status"] = True
    app.session_state["username"] = email
    app.session_state["name"] = email
    app.session_state["roles"] = [role]
    return app


def page_hash(app: AppTest, url_path: str) -> str:
    """The hash under which the last run registered the page of this URL path."""
    pages = app._registered_pages.items()
    title = next((spec.title for spec in all_specs() if spec.url_path == url_path), None)
    # The default page is registered with an empty URL path: found by its title when not by its path.
    found = next((h for h, info in pages if info.get("url_pathname") == url_path), None) or next(
        (h for h, info in pages if info.get("url_pathname") == "" and info.get("page_name") == title), None)
    if found is None:
        known = sorted(info.get("url_pathname") for info in app._registered_pages.values())
        raise AssertionError(f"page {url_path!r} absente de la navigation : {known}")
    return found


def open_page(app: AppTest, url_path: str) -> AppTest:
    """Run the app on the page registered under this URL path (call app.run() once before, to register it)."""
    app._page_hash = page_hash(app, url_path)
    try:
        return app.run()
    finally:
        # Left set, it would send every later run back to this page, even after the page itself called
        # st.switch_page; empty, AppTest stays on the page the last run finished on.
        app._page_hash = ""
