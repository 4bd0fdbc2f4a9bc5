"""One typed settings object, read once from the environment (RENFORT_* variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
DEFAULT_SQLITE_PATH = ROOT / "data" / "renfort.db"
DEFAULT_SIMULATION_DIR = ROOT / "data" / "simulations"  # beside the database and data/sauvegardes, git-ignored
DEV_COOKIE_KEY = "cle-de-developpement-a-remplacer"
DEV_PSEUDONYM_KEY = "pseudonymes-de-developpement-a-remplacer"
DEFAULT_TILES_ATTRIBUTION = "© les contributeurs d'OpenStreetMap"


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    base_url: str
    cookie_key: str
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    mail_from: str
    local_radius_km: float
    reservation_reminder_days: int
    reservation_expiry_days: int
    pseudonym_key: str  # HMAC key of the volunteers' pseudonyms in pseudonymised exports
    availability_confirm_days: int = 14  # « Toujours disponible ? » after this many days unconfirmed
    session_idle_minutes: int = 30  # a session not kept open ends after this idle time
    figures_cache_seconds: int = 60  # national figures are recomputed at most this often per server process
    figures_snapshot_seconds: int = 300  # the worker's precomputed figures are served while younger than this
    # A raster tile URL template ({z}/{x}/{y}) drawn under the pydeck maps, for deployments with internet access;
    # None: the offline department outlines only. The attribution is what the tile provider's licence requires.
    map_tiles: str | None = None
    map_tiles_attribution: str = DEFAULT_TILES_ATTRIBUTION
    # A streaming replica of the primary for the reads that tolerate about a second of lag (db.session's
    # `session_scope(replica=True)`); None: those reads go to the primary too.
    database_read_url: str | None = None
    # Where the CCS page « Simulation » starts the crisis simulator's runs (one timestamped folder each) and reads
    # the last report from (issue 17).
    simulation_dir: Path = DEFAULT_SIMULATION_DIR

    @property
    def read_url(self) -> str:
        """Where the replica scopes read: RENFORT_DATABASE_READ_URL, else the primary."""
        return self.database_read_url or self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "oui", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} doit être un nombre entier (reçu : {raw!r}).") from exc


def _tile_template(raw: str) -> str | None:
    """A tile URL template must name {z}, {x} and {y} and be http(s): a typo would draw a blank map silently."""
    template = raw.strip()
    if not template:
        return None
    if not template.startswith(("https://", "http://")) or not all(p in template for p in ("{z}", "{x}", "{y}")):
        raise RuntimeError("RENFORT_MAP_TILES doit être une adresse http(s) de tuiles contenant {z}, {x} et {y} "
                           f"(reçu : {template!r}).")
    return template


def _read_url(raw: str, primary: str) -> str | None:
    """A replica must run the primary's engine: a SQLite file cannot stream a PostgreSQL database's changes."""
    url = raw.strip()
    if not url or url == primary:
        return None
    if url.startswith("sqlite") != primary.startswith("sqlite"):
        raise RuntimeError("RENFORT_DATABASE_READ_URL doit désigner une réplique de la base de RENFORT_DATABASE_URL "
                           "(même moteur) ; laissez-la vide pour tout lire sur la base principale.")
    return url


def _directory(raw: str, default: Path) -> Path:
    """A folder setting: absolute, or relative to the project's root (not to wherever the server was started)."""
    text = raw.strip()
    if not text:
        return default
    path = Path(text).expanduser()
    return path if path.is_absolute() else ROOT / path


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment; fail fast on unsafe production values."""
    env = dict(os.environ if env is None else env)
    mode = env.get("RENFORT_ENV", "development").strip() or "development"
    cookie_key = env.get("RENFORT_COOKIE_KEY", "").strip() or DEV_COOKIE_KEY
    if mode != "development" and cookie_key == DEV_COOKIE_KEY:
        # A guessable cookie key would let anyone forge a signed-in session.
        raise RuntimeError("RENFORT_COOKIE_KEY doit être défini hors développement.")
    pseudonym_key = env.get("RENFORT_PSEUDONYM_KEY", "").strip() or DEV_PSEUDONYM_KEY
    if mode != "development" and pseudonym_key == DEV_PSEUDONYM_KEY:
        # A published key would let anyone holding a volunteer's id recompute their pseudonym.
        raise RuntimeError("RENFORT_PSEUDONYM_KEY doit être défini hors développement.")
    database_url = env.get("RENFORT_DATABASE_URL", "").strip() or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    return Settings(
        env=mode,
        database_url=database_url,
        database_read_url=_read_url(env.get("RENFORT_DATABASE_READ_URL", ""), database_url),
        base_url=(env.get("RENFORT_BASE_URL", "").strip() or "http://localhost:8501").rstrip("/"),
        cookie_key=cookie_key,
        smtp_host=env.get("RENFORT_SMTP_HOST", "").strip() or None,
        smtp_port=_int(env, "RENFORT_SMTP_PORT", 25),
        smtp_user=env.get("RENFORT_SMTP_USER", "").strip() or None,
        smtp_password=env.get("RENFORT_SMTP_PASSWORD") or None,
        smtp_starttls=_flag(env.get("RENFORT_SMTP_STARTTLS")),
        mail_from=env.get("RENFORT_MAIL_FROM", "").strip() or "ne-pas-repondre@renfort-rh.example.org",
        local_radius_km=float(env.get("RENFORT_LOCAL_RADIUS_KM", "").strip() or 30),
        reservation_reminder_days=_int(env, "RENFORT_RESERVATION_REMINDER_DAYS", 3),
        reservation_expiry_days=_int(env, "RENFORT_RESERVATION_EXPIRY_DAYS", 7),
        pseudonym_key=pseudonym_key,
        availability_confirm_days=_int(env, "RENFORT_AVAILABILITY_CONFIRM_DAYS", 14),
        session_idle_minutes=_int(env, "RENFORT_SESSION_IDLE_MINUTES", 30),
        figures_cache_seconds=_int(env, "RENFORT_FIGURES_CACHE_SECONDS", 60),
        figures_snapshot_seconds=_int(env, "RENFORT_FIGURES_SNAPSHOT_SECONDS", 300),
        map_tiles=_tile_template(env.get("RENFORT_MAP_TILES", "")),
        map_tiles_attribution=env.get("RENFORT_MAP_TILES_ATTRIBUTION", "").strip() or DEFAULT_TILES_ATTRIBUTION,
        simulation_dir=_directory(env.get("RENFORT_SIMULATION_DIR", ""), DEFAULT_SIMULATION_DIR),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
