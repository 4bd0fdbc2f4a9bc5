"""Start the app: `python -m ops.server [streamlit options]` (what `make run` and the browser tests use).

Streamlit still scans a `pages/` folder next to app.py the "v1" way on the first run of each server
process: that run opens a deep link such as /activer-mon-compte?jeton=… with a "Page not found"
notice, and would run a bare page module as a script. Declaring, before the server starts, that the
app does not use that folder makes every run — the first one included — use st.navigation only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str]) -> int:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *argv]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
