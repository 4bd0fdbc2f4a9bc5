"""Before any page is drawn, the values a form's widgets just received are kept in the form (ui.forms); and app.py,
which now reads the run's context, still runs as a plain script (ui.late_commit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def _form_app() -> None:
    import streamlit as st

    from ui.forms import FormState, keep_new_values

    st.session_state["new_values"] = keep_new_values()
    form = FormState("essai")
    st.text_input("Nom", key=form.key("nom"))
    form.keep()


def test_a_value_that_came_with_the_run_is_kept_before_the_form_is_drawn() -> None:
    app = AppTest.from_function(_form_app, default_timeout=30).run()
    assert app.session_state["new_values"] is False
    app.text_input[0].input("Dupont").run()
    assert app.session_state["new_values"] is True
    assert app.session_state["_form:essai"]["values"]["nom"] == "Dupont"
    app.run()  # nothing new: the form already holds it
    assert app.session_state["new_values"] is False


def test_app_py_run_as_a_plain_script_does_not_fail(tmp_path: Path) -> None:
    # multiprocessing's « spawn » runs the parent's main module again in each child: in a test process that ran an
    # AppTest before, that main module is app.py, run with no browser and no run context (the load test's children
    # died of it).
    environment = {**os.environ, "RENFORT_DATABASE_URL": f"sqlite:///{tmp_path / 'vide.db'}"}
    result = subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('app.py', run_name='__mp_main__')"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
