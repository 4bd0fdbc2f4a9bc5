"""`python -m ops.replicas --app 2 --workers 2 [--db URL]`: several app servers behind nginx, and several workers,
all on one PostgreSQL database, on this machine's loopback ports — the deployment of deploy/ in miniature.

It starts N Streamlit servers (ops.server) on free ports, nginx with deploy/nginx-renfort.conf rewritten for those
ports (`nginx -p DIR -c FILE`, daemon off), and the workers (`python -m core worker`); prints the proxy's address
and stops everything on Ctrl-C. Without --db it creates a database on the machine's cluster (migrated, demo data),
dropped at the end. The servers share STREAMLIT_SERVER_COOKIE_SECRET and RENFORT_COOKIE_KEY (drawn at random
unless set): a browser moved to another server stays signed in.

`python -m ops.replicas --nginx-site 10.0.0.11:8501,10.0.0.12:8501` prints the site file for those servers.
The pieces (`start`, `Stack`, `nginx_site`, databases) are importable: tests/e2e/test_replicas_e2e.py uses them.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from ops.replica_check import free_port

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx-renfort.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"  # the machine's cluster (trust)
BEGIN, END = "# -- servers: begin\n", "# -- servers: end\n"
LISTEN = "    listen 8080;\n"
ROUTE_COOKIE = "renfort_route"


# ---------------------------------------------------------------- the nginx site for N servers


def route(index: int) -> str:
    """The route cookie's value naming the index-th server (0-based): s1, s2…"""
    return f"s{index + 1}"


def servers_section(addresses: list[str]) -> str:
    """The part of the site that names the servers (see the site's comments): one upstream per server with the
    others as backup, one for browsers without a route, and the two maps of the route cookie."""
    if not addresses:
        raise ValueError("au moins un serveur")
    blocks = []
    for index, address in enumerate(addresses):
        backups = "".join(f"    server {other} backup;\n" for other in addresses if other != address)
        blocks.append(f"upstream renfort_{route(index)} {{\n    server {address};\n{backups}}}\n")
    blocks.append("upstream renfort_any {\n" + "".join(f"    server {a};\n" for a in addresses) + "}\n")
    choose = "".join(f"    {route(i)}      renfort_{route(i)};\n" for i in range(len(addresses)))
    blocks.append(f"map $cookie_{ROUTE_COOKIE} $renfort_upstream {{\n    default renfort_any;\n{choose}}}\n")
    # The answering server is the last address of $upstream_addr ("a, b" when nginx had to try a second one).
    served = "".join(f'    "~(^|[ ,]){re.escape(a)}$"    {route(i)};\n' for i, a in enumerate(addresses))
    blocks.append(f'map $upstream_addr $renfort_route {{\n    default                          "";\n{served}}}\n')
    return "".join(blocks)


def nginx_site(addresses: list[str], listen: str, site: Path = SITE) -> str:
    """deploy/nginx-renfort.conf for these servers (host:port) and this `listen` value (e.g. 127.0.0.1:8443)."""
    text = site.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    if text.count(LISTEN) != 1:
        raise ValueError(f"{site} : la ligne « {LISTEN.strip()} » est attendue une fois")
    return (text[:start] + servers_section(addresses) + text[end:]).replace(LISTEN, f"    listen {listen};\n")


def nginx_main_config(prefix: Path) -> str:
    """What /etc/nginx/nginx.conf gives the site in production, kept inside `prefix` (which holds site.conf).
    The access log says which server answered each request, and the browser's route cookie."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must write their temporary files here
    temp = "\n".join(f"  {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                        "scgi"))
    log_format = ("  log_format renfort '$time_local \"$request\" $status upstream=$upstream_addr "
                  f"route=$cookie_{ROUTE_COOKIE}';\n")
    return (f"daemon off;\n{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'error.log'};\nevents {{ worker_connections 512; }}\n"
            f"http {{\n  include /etc/nginx/mime.types;\n{log_format}  access_log {prefix / 'access.log'} renfort;\n"
            f"{temp}\n  include {prefix / 'site.conf'};\n}}\n")


# ---------------------------------------------------------------- processes


@dataclass
class Service:
    """One process of the stack and its log file."""

    name: str
    process: subprocess.Popen
    log: Path
    address: str | None = None  # host:port of a server (app or proxy)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """A crash: SIGKILL, nothing cleaned up."""
        self.process.kill()
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        if self.running:
            self.process.terminate()

    def stop(self, timeout: float = 15) -> None:
        self.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _spawn(name: str, command: list[str], log_dir: Path, env: Mapping[str, str], address: str | None = None) -> Service:
    log = log_dir / f"{name}.log"
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        # Its own process group: a Ctrl-C in the terminal reaches this script alone, which stops the stack in order.
        process = subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Service(name, process, log, address)


def wait_healthy(base_url: str, service: Service, timeout: float = 90) -> None:
    """Until the app answers its health check at this address (directly, or through the proxy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.running:
            raise RuntimeError(f"{service.name} s'est arrêté (code {service.process.returncode}) : {service.tail()}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    return
        except OSError:
            time.sleep(0.3)  # a server that is starting: poll again
    raise RuntimeError(f"{service.name} ne répond pas après {timeout:.0f} s : {service.tail()}")


@dataclass
class Stack:
    """The running stack: its servers (apps[i] is the route s{i+1}), workers and proxy."""

    db_url: str
    proxy_url: str
    log_dir: Path
    apps: list[Service] = field(default_factory=list)
    workers: list[Service] = field(default_factory=list)
    proxy: Service | None = None

    def app_of_route(self, value: str) -> Service:
        """The server a route cookie's value names."""
        return next(app for index, app in enumerate(self.apps) if route(index) == value)

    @property
    def services(self) -> list[Service]:
        return [*([self.proxy] if self.proxy else []), *self.apps, *self.workers]

    def stop(self) -> None:
        """The proxy first (no new request), then the servers, then the workers (each finishes its pass): told in
        that order, then awaited together — each takes a few seconds to close its connections."""
        for service in self.services:
            service.terminate()
        for service in self.services:
            service.stop()


def shared_environment(base: Mapping[str, str], db_url: str, proxy_url: str) -> dict[str, str]:
    """What every process of the stack shares: the database, the public address, and the two secrets a browser's
    cookies depend on — Streamlit's (its XSRF cookie, needed by uploads) and the sign-in cookie's key."""
    env = {**base, "RENFORT_DATABASE_URL": db_url, "RENFORT_BASE_URL": proxy_url}
    for secret in ("STREAMLIT_SERVER_COOKIE_SECRET", "RENFORT_COOKIE_KEY"):
        env[secret] = env.get(secret) or secrets.token_urlsafe(32)
    return env


def _start_apps(stack: Stack, count: int, env: Mapping[str, str]) -> None:
    for index in range(count):
        port = free_port()
        command = [sys.executable, "-m", "ops.server", "--server.headless", "true", "--server.address", "127.0.0.1",
                   "--server.port", str(port), "--browser.gatherUsageStats", "false"]
        stack.apps.append(_spawn(f"app-{index + 1}", command, stack.log_dir, env, f"127.0.0.1:{port}"))
    for app in stack.apps:
        wait_healthy(f"http://{app.address}", app)


def _start_proxy(stack: Stack, port: int) -> None:
    prefix = stack.log_dir / "nginx"
    prefix.mkdir(exist_ok=True)
    listen = f"127.0.0.1:{port}"
    (prefix / "site.conf").write_text(nginx_site([app.address for app in stack.apps], listen), encoding="utf-8")
    (prefix / "nginx.conf").write_text(nginx_main_config(prefix), encoding="utf-8")
    command = [NGINX, "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    stack.proxy = _spawn("nginx", command, stack.log_dir, os.environ, listen)
    wait_healthy(stack.proxy_url, stack.proxy, timeout=30)


def _start_workers(stack: Stack, count: int, env: Mapping[str, str], interval: float) -> None:
    for index in range(count):
        command = [sys.executable, "-m", "core", "worker", "--db", stack.db_url, "--interval", str(interval)]
        stack.workers.append(_spawn(f"worker-{index + 1}", command, stack.log_dir, env))


def start(db_url: str, *, apps: int = 2, workers: int = 2, port: int = 0, log_dir: Path | None = None,
          env: Mapping[str, str] | None = None, worker_interval: float = 5.0) -> Stack:
    """Start the stack on a migrated database; port 0: any free port for the proxy. Stops what it started if a
    piece fails to come up."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx absent ({NGINX}) : apt-get install nginx")
    port = port or free_port()
    proxy_url = f"http://127.0.0.1:{port}"
    stack = Stack(db_url, proxy_url, log_dir or Path(tempfile.mkdtemp(prefix="renfort-replicas-")))
    shared = shared_environment(env if env is not None else os.environ, db_url, proxy_url)
    try:
        _start_apps(stack, apps, shared)
        _start_proxy(stack, port)
        _start_workers(stack, workers, shared, worker_interval)
    except BaseException:
        stack.stop()
        raise
    return stack


# ---------------------------------------------------------------- a database of its own


def create_database(admin_url: str = ADMIN_URL) -> str:
    """A new empty database on the cluster of `admin_url`; returns its URL."""
    name = f"renfort_replicas_{uuid.uuid4().hex[:8]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    from db.session import get_engine

    get_engine(url).dispose()  # this process's connections, if it used the database
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)')


def _admin(admin_url: str, statement: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def prepare_database(url: str, *, small: bool = False) -> str:
    """Migrate and load the demo data (the browser tests' smaller set with `small`); returns the seed's report."""
    from ops.seed import seed_demo

    sizes = {"establishments": 60, "volunteers": 500, "missions": 100} if small else {}
    return seed_demo(url, seed=5 if small else 2020, only_if_empty=True, **sizes)


@contextmanager
def own_database(admin_url: str = ADMIN_URL, *, small: bool = False, keep: bool = False) -> Iterator[str]:
    """A database created, migrated and seeded for this run; dropped at the end unless `keep`."""
    url = create_database(admin_url)
    try:
        prepare_database(url, small=small)
        yield url
    finally:
        if not keep:
            drop_database(url, admin_url)


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops.replicas", description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=int, default=2, help="serveurs de l'application (défaut 2)")
    parser.add_argument("--workers", type=int, default=2, help="workers (défaut 2)")
    parser.add_argument("--db", help="base PostgreSQL déjà migrée (défaut : une base créée, supprimée à l'arrêt)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help=f"grappe où créer la base (défaut {ADMIN_URL})")
    parser.add_argument("--small", action="store_true", help="petit jeu de démonstration (celui des tests)")
    parser.add_argument("--keep-db", action="store_true", help="ne pas supprimer la base créée à l'arrêt")
    parser.add_argument("--port", type=int, default=8080, help="port de nginx (0 : un port libre ; défaut 8080)")
    parser.add_argument("--worker-interval", type=float, default=5.0, help="secondes entre deux passages (défaut 5)")
    parser.add_argument("--nginx-site", metavar="HÔTE:PORT,…", help="affiche le site nginx pour ces serveurs et quitte")
    return parser


def _describe(stack: Stack, created: bool) -> str:
    lines = [f"Base : {sa.engine.make_url(stack.db_url).render_as_string()}"
             + (" (créée pour cette session, supprimée à l'arrêt)" if created else ""),
             *(f"Serveur {route(i)} : http://{app.address} (journal {app.log})" for i, app in enumerate(stack.apps)),
             *(f"Worker {i + 1} : journal {worker.log}" for i, worker in enumerate(stack.workers)),
             f"nginx : journal d'accès {stack.log_dir / 'nginx' / 'access.log'} (serveur qui a répondu, cookie de route)",
             f"Ouvrez {stack.proxy_url} — Ctrl-C pour tout arrêter."]
    return "\n".join(lines)


def _serve(stack: Stack) -> None:
    """Until Ctrl-C (or SIGTERM); says when a process of the stack stops on its own (a killed server, say)."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    reported: set[str] = set()
    try:
        while not stopping:
            for service in stack.services:
                if not service.running and service.name not in reported:
                    reported.add(service.name)
                    print(f"{service.name} s'est arrêté (code {service.process.returncode}).", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.nginx_site:
        print(nginx_site(args.nginx_site.split(","), "8080"), end="")
        return 0
    try:
        return _run(args)
    except sa.exc.OperationalError as error:
        print(f"Base PostgreSQL injoignable : {error.orig}", file=sys.stderr)
    except RuntimeError as error:  # a piece that did not come up, with its log's end
        print(f"Démarrage impossible : {error}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace) -> int:
    with (own_database(args.admin_url, small=args.small, keep=args.keep_db) if not args.db
          else _given(args.db)) as db_url:
        stack = start(db_url, apps=args.app, workers=args.workers, port=args.port,
                      worker_interval=args.worker_interval)
        try:
            print(_describe(stack, created=not args.db and not args.keep_db), flush=True)
            _serve(stack)
        finally:
            print("Arrêt : nginx, serveurs, workers…", flush=True)
            stack.stop()
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    from ops.migrate import migrate

    migrate(url)  # the servers expect the latest schema
    yield url


if __name__ == "__main__":
    raise SystemExit(main())
