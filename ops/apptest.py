"""Driving the app with Streamlit's AppTest: shared by the UI tests and the benchmark."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def sign_in_as(app: AppTest, email: str, role: str) -> AppTest:
    """Preset the session as streamlit-authenticator leaves it after a sign-in (see STACK-NOTES)."""
    app.session_state["authentication_status"] = True
    app.session_state["username"] = email
    app.session_state["name"] = email
    app.session_state["roles"] = [role]
    return app


def open_page(app: AppTest, url_path: str) -> AppTest:
    """Switch to a page registered by st.navigation with a callable and a url_path, then run.

    AppTest.switch_page only knows file pages; our pages are functions (see pages/__init__.py),
    so we select the page the way the browser does: by the hash of its registered URL path.
    """
    from navigation import all_specs

    pages = app._registered_pages.items()
    title = next((spec.title for spec in all_specs() if spec.url_path == url_path), None)
    # The default page is registered with an empty URL path: found by its title when not by its path.
    found = next((h for h, info in pages if info.get("url_pathname") == url_path), None) or next(
        (h for h, info in pages if info.get("url_pathname") == "" and info.get("page_name") == title), None)
    if found is None:
        known = sorted(info.get("url_pathname") for info in app._registered_pages.values())
        raise AssertionError(f"page {url_path!r} absente de la navigation : {known}")
    app._page_hash = found
    return app.run()
