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
    from ui.navigation import PUBLIC_PAGES, ROLE_PAGES

    specs = [s for section in PUBLIC_PAGES.values() for s in section]
    specs += [s for sections in ROLE_PAGES.values() for section in sections.values() for s in section]
    title = next((spec.title for spec in specs if spec.url_path == url_path), None)
    for page_hash, info in app._registered_pages.items():
        # The default page is registered with an empty URL path: find it by its title.
        if info.get("url_pathname") == url_path or (info.get("url_pathname") == "" and info.get("page_name") == title):
            app._page_hash = page_hash
            return app.run()
    known = sorted(info.get("url_pathname") for info in app._registered_pages.values())
    raise AssertionError(f"page {url_path!r} absente de la navigation : {known}")
