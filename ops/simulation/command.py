"""`python -m core simulate`: its arguments and what it prints. The engine is imported only when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

SCALE_CHOICES = ("mini", "demo", "national")
RULE_CHOICES = {"2020": ("2020",), "renfort": ("renfort",), "both": ("2020", "renfort")}


def seeds(text: str) -> tuple[int, ...]:
    """« 3 », « 1,2,5 » or « 1-5 »."""
    values: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            values += list(range(int(low), int(high) + 1)) if high else [int(low)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed : « {text} » n'est pas une graine (ex. 7, 1,2,3 ou 1-5).") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("--seed : donnez au moins une graine positive ou nulle.")
    return tuple(dict.fromkeys(values))


def override(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--param : « {text} » attendu sous la forme nom=valeur.") from None


def add_parser(sub: Any, database: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("simulate", parents=[database],
                            help="rejoue une vague épidémique de N jours sur une base temporaire et compare les règles")
    parser.add_argument("--days", type=int, default=30, help="jours simulés (30 par défaut)")
    parser.add_argument("--seed", type=seeds, default=(1,), help="graine(s) : 7, 1,2,3 ou 1-5")
    parser.add_argument("--rules", choices=list(RULE_CHOICES), default="renfort",
                        help="2020 : règles de l'outil de 2020 ; renfort : les nôtres ; both : les deux")
    parser.add_argument("--scale", choices=SCALE_CHOICES, default="demo",
                        help="demo : 3 000 volontaires ; national : 100 000 ; mini : jeu minuscule (tests)")
    parser.add_argument("--wave", type=int, help="besoins (missions) de la vague : 300 en demo, 1 500 en national")
    parser.add_argument("--param", type=override, action="append", default=[],
                        help="un paramètre de comportement modifié, ex. fatigue=0.6 (voir docs/simulation.md)")
    parser.add_argument("--out", required=True, help="dossier des résultats (JSON, HTML, progress.json)")
    parser.add_argument("--workdir", help="dossier des bases temporaires (par défaut celui du système)")
    parser.add_argument("--sensitivity", action="store_true",
                        help="chaque paramètre à ×0,5 et ×1,5, les deux règles, la première graine (sensibilite.md)")
    parser.add_argument("--processes", type=int, default=2, help="--sensitivity : simulations en parallèle (2)")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> None:
    from ops.simulation.behaviour import with_overrides
    from ops.simulation.run import Plan, run_plan

    if getattr(args, "db", None):
        raise SystemExit("La simulation travaille sur sa propre base temporaire : elle ne s'exécute jamais sur une "
                         "base existante (retirez --db).")
    if not 1 <= args.days <= 60:
        raise SystemExit("--days : entre 1 et 60 jours.")
    if args.wave is not None and not 1 <= args.wave <= 20_000:
        raise SystemExit("--wave : entre 1 et 20 000 besoins.")
    try:
        behaviour = with_overrides(dict(args.param))
    except ValueError as error:
        raise SystemExit(f"--param : {error}") from None
    plan = Plan(days=args.days, seeds=args.seed, rules=RULE_CHOICES[args.rules], scale=args.scale, wave=args.wave,
                behaviour=behaviour)
    if args.sensitivity:
        from ops.simulation.sensitivity import run_sensitivity

        rows = run_sensitivity(plan, Path(args.out), processes=args.processes,
                               workdir=Path(args.workdir) if args.workdir else None,
                               on_progress=lambda text: print(text, flush=True))
        print(f"{len(rows)} variantes ; tableau dans {Path(args.out) / 'sensibilite.md'}")
        return
    summary = run_plan(plan, Path(args.out), workdir=Path(args.workdir) if args.workdir else None,
                       on_progress=lambda text: print(text, flush=True))
    print(describe(summary))
    print(f"Résultats dans {args.out}")


def describe(summary: dict[str, Any]) -> str:
    if "final" in summary:
        final = summary["final"]
        ttf = final["time_to_fill_hours"]["median"]
        return (f"Postes pourvus : {final['posts_filled']} / {final['posts_requested']} ; délai médian : "
                f"{'–' if ttf is None else f'{ttf:.1f} h'} ; Gini des sollicitations : {final['gini']} "
                f"(le plus bas possible avec les mêmes demandes : {final['gini_floor']}) ; "
                f"réservations de plus de 7 jours (max) : {final['waiting_over_7_days_max']}.")
    lines = [f"{rules} : {values}" for rules, values in summary["median"].items()]
    lines += [f"{'✔' if t['met'] else '✘'} {t['label']} : {t['value']}" for t in summary.get("targets", [])]
    return "\n".join(lines)
