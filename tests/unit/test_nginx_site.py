"""deploy/nginx-renfort.conf and its rewriting for N servers (ops.replicas.nginx_site)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ops.replicas import BEGIN, END, NGINX, SITE, nginx_main_config, nginx_site, servers_section
from tests.conftest import require


def test_the_committed_site_is_what_the_generator_writes_for_its_two_servers() -> None:
    """Operators edit the servers' part with `python -m ops.replicas --nginx-site …`: file and generator agree."""
    text = SITE.read_text(encoding="utf-8")
    section = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    assert section == servers_section(["127.0.0.1:8501", "127.0.0.1:8502"])


def test_each_server_has_its_upstream_with_the_others_as_backup_and_its_route() -> None:
    site = nginx_site(["10.0.0.11:8501", "10.0.0.12:8501", "10.0.0.13:8501"], listen="127.0.0.1:9000")
    assert "upstream renfort_s2 {\n    server 10.0.0.12:8501;\n    server 10.0.0.11:8501 backup;\n" \
           "    server 10.0.0.13:8501 backup;\n}" in site
    assert '"~(^|[ ,])10\\.0\\.0\\.13:8501$"    s3;' in site and "    s3      renfort_s3;" in site
    assert "listen 127.0.0.1:9000;" in site and "server 127.0.0.1:850" not in site
    # The rules of every deployment stay whatever the servers: uploads, no-store downloads, headers.
    assert site.count('add_header Cache-Control "no-store, private" always;') == 1
    assert "client_max_body_size 64m;" in site and site.count("add_header Set-Cookie $renfort_route_cookie") == 2


def test_nginx_accepts_the_site_for_three_servers(tmp_path: Path) -> None:
    require(Path(NGINX).exists(), f"nginx absent ({NGINX}) : `make test` l'installe avec apt-get")
    (tmp_path / "site.conf").write_text(nginx_site(["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"],
                                                   listen="127.0.0.1:9000"), encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(nginx_main_config(tmp_path), encoding="utf-8")
    checked = subprocess.run([NGINX, "-t", "-e", str(tmp_path / "error.log"), "-p", str(tmp_path), "-c",
                              str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
