"""The capacity curve's verdict, table and chart from load results (the runs themselves: tests/services/test_load.py;
the curve's figures come from `python -m core bench --capacity`, never from a test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import capacity


def _point(users: int, p95: dict[str, float], *, unavailable: int = 0, invariants_ok: bool = True) -> dict:
    operations = {key: {"p95_ms": value} for key, value in p95.items()}
    point = {"users": users, "operations": operations, "unavailable": unavailable, "invariants_ok": invariants_ok,
             "throughput_per_second": users / 2, "transitions_per_second": users / 10, "conflicts": 1, "errors": 0,
             "wall_seconds": 70.0}
    point["within_target"] = capacity.within_target(point)
    return point


def _result(points: list[dict]) -> dict:
    return {"engine": "postgresql", "cpu_count": 2, "processes": 2, "seconds": 60, "think_seconds": [1, 3],
            "dataset": {"volunteers": 100_000, "establishments": 10_000}, "target_p95_ms": 300,
            "capacity_users": max((p["users"] for p in points if p["within_target"]), default=0), "points": points}


def test_every_page_and_transition_within_300_ms_the_export_file_aside() -> None:
    assert capacity.within_target(_point(25, {"candidates": 120, "contact": 300, "export": 4000}))
    assert not capacity.within_target(_point(50, {"candidates": 301, "contact": 20}))
    assert not capacity.within_target(_point(50, {"candidates": 100}, unavailable=1))  # a person saw an error page
    assert not capacity.within_target(_point(50, {"candidates": 100}, invariants_ok=False))


def test_the_table_names_the_capacity_in_french_and_its_markdown_is_a_table() -> None:
    result = _result([_point(25, {"candidates": 80.5, "export": 1500}), _point(50, {"candidates": 250}),
                      _point(100, {"candidates": 900})])
    table = capacity.format_table(result)
    assert "Capacité de cette machine : 50 personnes simultanées" in table
    assert "Export national des missions (.xlsx) (non jugé)" in table and "80,5" in table
    assert "100 000 volontaires" in table and "1 à 3 s de réflexion" in table
    markdown = capacity.format_markdown(result).splitlines()
    assert "| p95 (ms) / personnes | 25 | 50 | 100 |" in markdown and "|---|---:|---:|---:|" in markdown
    assert "| Chaque p95 ≤ 300 ms | oui | oui | non |" in markdown
    nobody = capacity.format_table(_result([_point(25, {"candidates": 400})]))
    assert "aucun des nombres essayés" in nobody


def test_the_chart_is_an_svg_drawn_by_chromium(tmp_path: Path) -> None:
    pytest.importorskip("kaleido")
    result = _result([_point(25, {"candidates": 80, "export": 1500}), _point(50, {"candidates": 350})])
    written = capacity.write_chart(result, tmp_path / "capacite.svg")
    if not Path(capacity.CHROMIUM).exists():  # the fallback: the same chart as a self-contained page
        assert written.suffix == ".html" and "plotly" in written.read_text(encoding="utf-8")
        return
    svg = written.read_text(encoding="utf-8")
    assert written.suffix == ".svg" and svg.startswith("<svg")
    assert "Candidats d'une mission (établissement)" in svg and "Seuil : 300 ms" in svg
