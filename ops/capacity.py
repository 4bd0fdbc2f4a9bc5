"""`python -m core bench --load` and `--capacity`: the load test of ops/load.py once, or at each number of people.

The capacity curve runs the load test for each N of `--users 25,50,100,200,400` on the same database, one after
the other, and gives the p95 of each operation, the throughput and the errors at each N. The machine's capacity
is the largest N whose every p95 stays within 300 ms with no saturation and no error — pages and transitions;
the national export builds a file, which a person waits for differently (the bench's target for the export of
every volunteer is in seconds), so it is shown but not judged. Prints a French table (and its Markdown for
docs/performance.md), writes the JSON and a plotly chart: SVG through kaleido driving Debian's Chromium, a
self-contained HTML where that cannot run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.shared.clock import utcnow
from core.shared.config import ROOT
from ops import bench
from ops.load import FILES, OPERATIONS, parse_think, run_load

CAPACITY_P95_MS = 300
DATASET_LABELS = {"volunteers": "volontaires", "establishments": "établissements", "missions": "missions",
                  "proposals": "propositions"}
CHROMIUM = "/usr/bin/chromium"  # Debian's: kaleido drives it (no browser of its own is downloaded)


def run_command(url: str, args: argparse.Namespace) -> bool:
    """The CLI's `--load` / `--capacity`; False when a run broke an invariant or met an unexpected error."""
    try:
        think = parse_think(args.think)
        users = [int(part) for part in str(args.users).replace(" ", "").split(",") if part]
    except ValueError as error:
        raise SystemExit(f"--think ou --users invalide : {error}") from error
    if not users or min(users) < 1 or args.processes < 1:
        raise SystemExit("--users et --processes : des nombres entiers positifs (ex. --users 25,50 --processes 2).")
    if args.load:
        if len(users) != 1:
            raise SystemExit("--load : un seul nombre de personnes (--users 25) ; une liste, c'est --capacity.")
        report = run_load(url, users=users[0], processes=args.processes, think=think, seconds=args.seconds,
                          scale=args.scale)
        print(report.table())
        if args.json:
            bench.write_json(report.as_dict(), args.json)
            print(f"Résultats écrits dans {args.json}")
        return report.invariants_ok
    result = run_capacity(url, users=users, processes=args.processes, think=think, seconds=args.seconds,
                          scale=args.scale)
    print(format_table(result))
    print("\nPour docs/performance.md :\n")
    print(format_markdown(result))
    if args.json:
        bench.write_json(result, args.json)
        print(f"\nRésultats écrits dans {args.json}")
    chart = Path(args.chart) if args.chart else ROOT / "docs" / f"{Path(args.json or 'capacite').stem}.svg"
    print(f"Graphique : {write_chart(result, chart)}")
    return all(point["invariants_ok"] for point in result["points"])


def run_capacity(url: str, *, users: list[int], processes: int = 2, think: tuple[float, float] = (1.0, 3.0),
                 seconds: float = 60, scale: str = "national", say: Callable[[str], None] = print,
                 **options: Any) -> dict[str, Any]:
    """The load test at each N, in the order given; the JSON-ready result with the capacity."""
    points: list[dict[str, Any]] = []
    for count in users:
        say(f"\n— Point à {count} personnes —")
        started = time.monotonic()
        report = run_load(url, users=count, processes=processes, think=think, seconds=seconds, scale=scale, say=say,
                          **options)
        say(report.table())
        point = report.as_dict()
        point["wall_seconds"] = round(time.monotonic() - started, 1)  # start, warm-up, run and invariants
        point["within_target"] = within_target(point)
        points.append(point)
    passing = [point["users"] for point in points if point["within_target"]]
    return {"engine": points[0]["engine"], "dataset": points[0]["dataset"], "cpu_count": os.cpu_count(),
            "processes": processes, "seconds": seconds, "think_seconds": list(think),
            "measured_at": utcnow().isoformat(timespec="seconds"), "target_p95_ms": CAPACITY_P95_MS,
            "capacity_users": max(passing, default=0), "points": points}


def within_target(point: dict[str, Any]) -> bool:
    """Every page and transition answered within 300 ms at the 95th percentile, none saturated, nothing broken."""
    judged = [op for key, op in point["operations"].items() if key not in FILES]
    return (point["invariants_ok"] and not point["unavailable"]
            and all(op["p95_ms"] <= CAPACITY_P95_MS for op in judged))


# ---------------------------------------------------------------- the table


def _rows(result: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The header (N of each point) and the rows: p95 of each operation, then the run's figures."""
    points = result["points"]
    header = [str(point["users"]) for point in points]
    rows = []
    for key, (_, label) in OPERATIONS.items():
        if any(key in point["operations"] for point in points):
            suffix = " (non jugé)" if key in FILES else ""
            rows.append((f"{label}{suffix}", [_fr(point["operations"][key]["p95_ms"])
                                             if key in point["operations"] else "—" for point in points]))
    rows += [
        ("Débit (actions/s)", [_fr(point["throughput_per_second"]) for point in points]),
        ("Transitions/s", [_fr(point["transitions_per_second"]) for point in points]),
        ("Conflits", [str(point["conflicts"]) for point in points]),
        ("Saturées (indisponible)", [str(point["unavailable"]) for point in points]),
        ("Erreurs inattendues", [str(point["errors"]) for point in points]),
        ("Invariants", ["OK" if point["invariants_ok"] else "KO" for point in points]),
        (f"Chaque p95 ≤ {CAPACITY_P95_MS} ms", ["oui" if point["within_target"] else "non" for point in points]),
        ("Durée du point (s)", [f"{point['wall_seconds']:.0f}" for point in points]),
    ]
    return header, rows


def _fr(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _heading(result: dict[str, Any]) -> str:
    sizes = ", ".join(f"{value:,} {DATASET_LABELS.get(key, key)}".replace(",", " ")
                      for key, value in result["dataset"].items())
    low, high = (f"{value:g}".replace(".", ",") for value in result["think_seconds"])
    return (f"Courbe de capacité — {result['engine']}, {result['cpu_count']} cœurs, {result['processes']} processus, "
            f"{low} à {high} s de réflexion, {result['seconds']:g} s par point — jeu : {sizes}")


def _verdict(result: dict[str, Any]) -> str:
    if not result["capacity_users"]:
        return f"Capacité : aucun des nombres essayés ne tient chaque p95 sous {CAPACITY_P95_MS} ms."
    return (f"Capacité de cette machine : {result['capacity_users']} personnes simultanées (le plus grand nombre "
            f"essayé dont chaque p95 reste sous {CAPACITY_P95_MS} ms, sans saturation ni erreur).")


def format_table(result: dict[str, Any]) -> str:
    header, rows = _rows(result)
    width = max(len(label) for label, _ in rows)
    lines = [_heading(result), "", f"{'p95 (ms) / personnes':{width}} " + " ".join(f"{n:>8}" for n in header)]
    lines += [f"{label:{width}} " + " ".join(f"{cell:>8}" for cell in cells) for label, cells in rows]
    return "\n".join([*lines, "", _verdict(result)])


def format_markdown(result: dict[str, Any]) -> str:
    header, rows = _rows(result)
    lines = ["| p95 (ms) / personnes | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join([_heading(result), "", *lines, "", _verdict(result)])


# ---------------------------------------------------------------- the chart


def figure(result: dict[str, Any]) -> Any:
    """p95 of each operation against the number of people (log scales), the 300 ms line, the throughput."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    users = [point["users"] for point in result["points"]]
    chart = make_subplots(specs=[[{"secondary_y": True}]])
    for key, (_, label) in OPERATIONS.items():
        values = [point["operations"].get(key, {}).get("p95_ms") for point in result["points"]]
        if any(value is not None for value in values):
            chart.add_trace(go.Scatter(x=users, y=values, mode="lines+markers", name=label,
                                       line={"dash": "dot"} if key in FILES else {}), secondary_y=False)
    chart.add_trace(go.Scatter(x=users, y=[point["throughput_per_second"] for point in result["points"]],
                               mode="lines", name="Débit (actions/s, axe de droite)",
                               line={"color": "black", "width": 3}), secondary_y=True)
    # A trace rather than add_hline: a shape on a log axis takes the logarithm of its value, not the value.
    chart.add_trace(go.Scatter(x=[users[0], users[-1]], y=[CAPACITY_P95_MS] * 2, mode="lines",
                               name=f"Seuil : {CAPACITY_P95_MS} ms", line={"color": "red", "dash": "dash"}),
                    secondary_y=False)
    chart.update_xaxes(type="log", tickvals=users, title_text="Personnes simultanées")
    chart.update_yaxes(type="log", title_text="p95 (ms)", secondary_y=False)
    chart.update_yaxes(title_text="actions/s", rangemode="tozero", tickmode="auto", nticks=6, showgrid=False,
                       secondary_y=True)
    # Eleven operations: a palette of more than ten colours, so that no two lines share one.
    chart.update_layout(title=_heading(result).split(" — jeu")[0], template="plotly_white", width=1100, height=620,
                        legend={"font": {"size": 11}}, separators=", ", colorway=px_colours())
    return chart


def px_colours() -> list[str]:
    from plotly.colors import qualitative

    return qualitative.Dark24


def write_chart(result: dict[str, Any], path: Path) -> Path:
    """SVG through kaleido and Debian's Chromium; where either is missing, the same chart as one HTML file."""
    import plotly.io as pio

    chart = figure(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    if Path(CHROMIUM).exists() and not os.environ.get("BROWSER_PATH"):
        os.environ["BROWSER_PATH"] = CHROMIUM  # choreographer (kaleido's browser driver) reads it
    try:
        pio.write_image(chart, str(path.with_suffix(".svg")), format="svg")
        return path.with_suffix(".svg")
    except Exception as error:  # noqa: BLE001 - no kaleido or no browser: the HTML still shows the curve
        fallback = path.with_suffix(".html")
        chart.write_html(str(fallback), include_plotlyjs=True, full_html=True)
        print(f"SVG impossible ({type(error).__name__}: {error}) ; graphique HTML autonome à la place.")
        return fallback
