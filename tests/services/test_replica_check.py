"""`python -m ops.replica_check`: a real primary and streaming replica built on spare loopback ports (never the
machine's 5432 cluster) show the national page reading the replica, an export's Event on the primary and its rows
on the replica, writes reaching the replica within a second, and a write in a replica scope refused (25006)."""

from __future__ import annotations

import subprocess
import sys

from ops.replica_check import missing_prerequisite
from tests.conftest import require


def test_the_replica_check_passes_on_its_own_postgresql_pair() -> None:
    reason = missing_prerequisite()
    require(reason is None, f"vérification de la réplique impossible ici : {reason}")
    # A process of its own: the check points RENFORT_DATABASE_URL and _READ_URL at its servers. ~20 s: the only
    # test that runs a real streaming replica (initdb, pg_basebackup, migrations, a small demo set, an AppTest run).
    done = subprocess.run([sys.executable, "-m", "ops.replica_check", "--small"], capture_output=True, text=True,
                          timeout=240, check=False)
    report = done.stdout
    assert done.returncode == 0, report + done.stderr
    assert "[ÉCHEC]" not in report
    for line in ("la réplique (pg_is_in_recovery)", "chiffres nationaux lus sur la réplique",
                 "événement du journal écrit sur la principale", "retard de la réplique",
                 "refusée avec SQLSTATE 25006"):
        assert any(line in text and "[OK]" in text for text in report.splitlines()), (line, report)
    assert "Réplique de lecture vérifiée" in report
