"""Which run is the late value of a field typed before a click on the menu (ui.late_commit)."""

from __future__ import annotations

import pytest

from ui.late_commit import LATE_SECONDS, page_left_for


@pytest.mark.parametrize(("runs", "clicked"), [
    ([("A", 0.0), ("B", 10.0), ("A", 10.03)], "B"),  # A, its menu link to B, the late value of A's field
    ([("X", 0.0), ("A", 5.0), ("B", 10.0), ("A", 10.03)], "B"),  # only the last three runs count
    ([("A", 0.0), ("B", 10.0), ("A", 10.0 + LATE_SECONDS)], None),  # back to A later: the user's own click
    ([("A", 0.0), ("B", 10.0), ("C", 10.03)], None),  # on to a third page
    ([("A", 0.0), ("A", 10.0), ("A", 10.03)], None),  # the same page throughout
    ([("B", 10.0), ("A", 10.03)], None),  # too short a history to tell
])
def test_the_page_clicked_is_found_only_right_after_leaving(runs: list[tuple[str, float]], clicked: str | None) -> None:
    assert page_left_for(runs) == clicked
