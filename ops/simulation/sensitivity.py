"""`python -m core simulate --sensitivity`: every behavioural parameter at half and at one and a half times its
value, both rule sets on the same seed, the other parameters unchanged — how much each conclusion depends on
each assumption (the table of docs/simulation.md). Runs share one prepared population and go in parallel."""

from __future__ import annotations

import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from db.session import copy_sqlite
from ops.simulation.behaviour import PARAMETERS, Behaviour
from ops.simulation.run import (
    Plan,
    ProgressFile,
    prepare_population,
    simulate_one,
    sqlite_url,
    write_json,
)

FACTORS = (0.5, 1.5)


def _variants(plan: Plan) -> list[tuple[str, float, Behaviour]]:
    variants = [("référence", 1.0, plan.behaviour)]
    return variants + [(name, factor, plan.behaviour.scaled(name, factor)) for name in PARAMETERS for factor in FACTORS]


def _one(args: tuple[Path, Path, Plan, str, int]) -> dict[str, Any]:
    population, copy, plan, rules, seed = args
    copy_sqlite(population, copy)
    report = simulate_one(sqlite_url(copy), plan, rules, seed, lambda done: None)
    copy.unlink()
    final = report["final"]
    return {"posts_filled": final["posts_filled"], "fill_rate": final["fill_rate"],
            "median_ttf": final["time_to_fill_hours"]["median"], "gini": final["gini"],
            "gini_floor": final["gini_floor"], "waiting_over_7_days_max": final["waiting_over_7_days_max"],
            "invariants": report["invariants"]}


def run_sensitivity(plan: Plan, out: Path, *, processes: int = 2, workdir: Path | None = None,
                    on_progress: Any = None) -> list[dict[str, Any]]:
    seed = plan.seeds[0]
    variants = _variants(plan)
    progress = ProgressFile(out / "progress.json", 2 * len(variants), on_progress)
    rows = []
    with tempfile.TemporaryDirectory(dir=workdir, prefix="renfort-sensibilite-") as folder:
        population = Path(folder) / "population.db"
        progress.update("preparation", 0, f"Préparation du jeu de données « {plan.scale} »…")
        prepare_population(plan.scale, population)
        jobs = [(population, Path(folder) / f"run-{i}-{rules}.db", replace(plan, behaviour=behaviour), rules, seed)
                for i, (_, _, behaviour) in enumerate(variants) for rules in ("2020", "renfort")]
        with ProcessPoolExecutor(max_workers=processes) as pool:
            results = []
            for done, result in enumerate(pool.map(_one, jobs), start=1):
                results.append(result)
                progress.update("simulation", done, f"Variante {(done + 1) // 2}/{len(variants)}")
    for index, (name, factor, behaviour) in enumerate(variants):
        old, new = results[2 * index], results[2 * index + 1]
        rows.append({"parameter": name, "factor": factor, "value": getattr(behaviour, name, None),
                     "2020": old, "renfort": new, **comparison(old, new)})
    write_json(out / "sensibilite.json", rows)
    (out / "sensibilite.md").write_text(markdown(rows), encoding="utf-8")
    progress.update("termine", 2 * len(variants), "Analyse de sensibilité terminée.")
    return rows


def comparison(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    gain = new["posts_filled"] / old["posts_filled"] - 1 if old["posts_filled"] else None
    ratio = new["median_ttf"] / old["median_ttf"] if old["median_ttf"] and new["median_ttf"] is not None else None
    return {"fill_gain": gain, "ttf_ratio": ratio}


def _number(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value).replace(".", ",")


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| Paramètre | Facteur | Valeur | Postes pourvus 2020 → renfort | Écart | Délai médian 2020 → renfort (h) "
             "| Rapport | Gini 2020 → renfort | Gini minimal 2020 → renfort | Attentes > 7 j 2020 → renfort |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        old, new = row["2020"], row["renfort"]
        value = "" if row["parameter"] == "référence" else _number(row["value"], "{:g}")
        lines.append(
            f"| {row['parameter']} | ×{_number(row['factor'], '{:g}')} | {value} | {old['posts_filled']} → "
            f"{new['posts_filled']} | {_number(row['fill_gain'] and row['fill_gain'] * 100, '{:+.1f} %')} | "
            f"{_number(old['median_ttf'], '{:.0f}')} → {_number(new['median_ttf'], '{:.0f}')} | "
            f"{_number(row['ttf_ratio'], '{:.2f}')} | {_number(old['gini'], '{:.2f}')} → {_number(new['gini'], '{:.2f}')} "
            f"| {_number(old.get('gini_floor'), '{:.2f}')} → {_number(new.get('gini_floor'), '{:.2f}')} "
            f"| {old['waiting_over_7_days_max']} → {new['waiting_over_7_days_max']} |")
    return "\n".join(lines) + "\n"
