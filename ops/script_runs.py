"""Following a Streamlit page's script runs from the browser: the browser tests (tests/e2e) and the browser
bench (ops/bench_browser.py) both wait on them, never on fixed sleeps."""

from __future__ import annotations

import itertools
from typing import Any

from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


class ScriptRuns:
    """What the page's WebSocket says of the script's runs, on one clock: the tick of the latest rerun the browser
    asked for (BackMsg rerun_script), and of the latest run that finished (ForwardMsg script_finished). A run is
    over once it finished after it was asked — however long a loaded server takes to start it, which the status
    widget alone cannot tell (it is absent both before the run starts and after it ends)."""

    def __init__(self) -> None:
        self._clock = itertools.count(1)
        self.asked = 0
        self.finished = 0
        self.runs_finished = 0  # how many runs have finished since the page was loaded

    def now(self) -> int:
        return next(self._clock)

    def watch(self, websocket: Any) -> None:
        """Give it to Playwright: `page.on("websocket", runs.watch)`."""
        if "/_stcore/stream" in websocket.url:
            websocket.on("framesent", self._sent)
            websocket.on("framereceived", self._received)

    def _sent(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes) and _parsed(BackMsg, payload).WhichOneof("type") == "rerun_script":
            self.asked = self.now()

    def _received(self, payload: bytes | str) -> None:
        if not isinstance(payload, bytes):
            return
        message = _parsed(ForwardMsg, payload)
        # A run cut short by a newer request is followed by that newer run's own end.
        if (message.WhichOneof("type") == "script_finished"
                and message.script_finished != ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN):
            self.finished = self.now()
            self.runs_finished += 1

    @property
    def running(self) -> bool:
        return self.asked > self.finished

    def over_since(self, tick: int) -> bool:
        """A run was asked after this tick, and the latest one asked has finished."""
        return self.asked > tick and self.finished > self.asked


def _parsed(kind: Any, payload: bytes) -> Any:
    try:
        return kind.FromString(payload)
    except DecodeError:
        return kind()
