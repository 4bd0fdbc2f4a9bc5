"""The recap of an establishment's dossiers (ui.dossier_recap): French sizes and days, the order after a move, the
printable page's escaping."""

from __future__ import annotations

from datetime import date, datetime, timezone

from ui.dossier_recap import moved, printable_html
from ui.format import fr_day, fr_size


def test_sizes_read_in_french() -> None:
    assert fr_size(700) == "0,7 Ko"
    assert fr_size(5 * 1024 * 1024) == "5 Mo"
    assert fr_size(1_363_149) == "1,3 Mo"
    assert fr_size(10) == "0,1 Ko"  # never « 0,0 Ko » for a file that has content
    assert fr_size(None) == "–"


def test_a_campaign_instant_is_its_day_in_paris() -> None:
    assert fr_day(datetime(2026, 3, 1, 23, 0, tzinfo=timezone.utc)) == "02/03/2026"  # 00:00 in Paris
    assert fr_day(date(2026, 3, 1)) == "01/03/2026"


def test_moving_a_dossier_swaps_it_with_its_neighbour_and_stops_at_the_ends() -> None:
    assert moved([1, 2, 3], 2, -1) == [2, 1, 3]
    assert moved([1, 2, 3], 2, 1) == [1, 3, 2]
    assert moved([1, 2, 3], 1, -1) == [1, 2, 3]
    assert moved([1, 2, 3], 3, 1) == [1, 2, 3]


def test_the_printable_page_escapes_what_users_typed() -> None:
    row = {"priority": 1, "candidate": "<script>alert(1)</script>", "candidate_status": None,
           "partner": "A & B", "state_label": "Incomplet", "missing_count": 2, "documents": 1,
           "documents_required": 4, "confirmed_at": None, "decision_label": None}
    page = printable_html(campaign="Appel <b>", establishment="CH", rows=[row], with_decision=True,
                          now=datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)).decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A &amp; B" in page and "Appel &lt;b&gt;" in page
    assert "<th>Décision</th>" in page and "01/12/2026 à 10:00" in page
