"""The deployment's nginx site (deploy/nginx-renfort.conf, for one server) in front of the running app, in Chromium.

Streamlit 1.67 serves downloads from /media/ with no Cache-Control and no setting to add one (issue 12: identity
documents must reach the browser with `Cache-Control: no-store`), so the reverse proxy sets it. This runs the
very file the deployment doc tells operators to install: the app works through it (sign-in and the page's
WebSocket), and an identity document downloaded through it carries `no-store` and arrives intact.
"""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.session import session_scope
from ops.replicas import NGINX, nginx_main_config, nginx_site
from tests.conftest import require
from tests.e2e.conftest import _free_port, screenshot, sign_in, wait_healthy
from tests.e2e.test_downloads_e2e import (
    _document,
    _image,
    _prepare_and_download,
    _send_document,
    _sheet_from_region_professionals,
    _volunteer_of_region,
)
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def proxied_app(live_app: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(Path(NGINX).exists(), f"nginx absent ({NGINX}) : `make test` l'installe avec apt-get")
    prefix = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    site = nginx_site([live_app.removeprefix("http://")], listen=f"127.0.0.1:{port}")  # the file, for this server
    (prefix / "site.conf").write_text(site, encoding="utf-8")
    (prefix / "nginx.conf").write_text(nginx_main_config(prefix), encoding="utf-8")
    process = subprocess.Popen([NGINX, "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process, name="nginx", log=prefix / "error.log", timeout=30)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _own_ars_account(database_url: str) -> str:
    """An ARS account of Pays de la Loire of this test alone: what other tests do to the demo ARS account (its
    sessions ended by a sign-out elsewhere, say) is none of this test's business."""
    with session_scope(database_url) as session:
        return make_user(session, "ars", ars_code="52", email="ars.proxy@example.org").email


def test_an_identity_document_downloaded_through_the_proxy_is_never_cached(proxied_app, e2e_database,
                                                                           page) -> None:
    professional_id, email = _volunteer_of_region(e2e_database, "52", skip=45)
    _send_document(e2e_database, professional_id, "identite", "piece-identite.png", _image("PNG"))
    identity = _document(e2e_database, professional_id, "identite")
    sign_in(page, proxied_app, _own_ars_account(e2e_database), PASSWORD)  # page and WebSocket through nginx
    sheet = _sheet_from_region_professionals(page, email)

    with page.expect_download(timeout=60_000) as download:
        filename, content = _prepare_and_download(page, sheet, "Pièce d'identité — piece-identite.png")
    screenshot(page, "63-proxy-piece-identite-telechargee")
    assert (filename, content) == (identity.filename, identity.content)
    url = download.value.url
    assert url.startswith(f"{proxied_app}/media/"), url

    with urllib.request.urlopen(url, timeout=30) as response:  # the same file, as the browser fetched it
        headers, body = response.headers, response.read()
    assert body == identity.content
    assert headers["Cache-Control"] == "no-store, private" and headers["Pragma"] == "no-cache"
    assert headers.get_all("Cache-Control") == ["no-store, private"]  # Streamlit's own, if any, is replaced
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == 'attachment; filename="piece-identite.png"'
    # The route cookie pins the browser to the server holding the file (one server here: s1).
    assert "renfort_route=s1; Path=/; HttpOnly; SameSite=Lax" in headers.get_all("Set-Cookie")
