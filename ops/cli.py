"""Command line behind `python -m core`: migrate, seed, worker, bench, create-user.

Each command imports its tools when it runs, so that `migrate` or `worker` do not load Streamlit and
pandas (the page measurements of the bench need them)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.shared.errors import DomainError
from ops.simulation import command as simulation_command


def _cmd_migrate(args: argparse.Namespace) -> None:
    from ops.migrate import migrate

    written = migrate(args.db)
    changed = {table: count for table, count in written.items() if count}
    print("Base à jour." + (f" Référentiels écrits : {changed}" if changed else " Référentiels inchangés."))


def _cmd_seed(args: argparse.Namespace) -> None:
    if args.scale in ("national", "workforce"):
        from ops.seed_national import seed_national

        print(seed_national(args.db, seed=args.seed, scale=args.scale, progress=lambda text: print(text, flush=True)))
        return
    if not args.demo:
        raise SystemExit("Précisez --demo, --scale national ou --scale workforce.")
    from ops.seed import seed_demo

    print(seed_demo(url=args.db, seed=args.seed, only_if_empty=args.if_empty))


def _cmd_worker(args: argparse.Namespace) -> None:
    from ops.worker import run_forever, run_once

    if args.once:
        for line in run_once(args.db):
            print(line)
    else:
        run_forever(args.db, args.interval)


def _cmd_bench(args: argparse.Namespace) -> None:
    if args.browser:
        _browser_bench(args)
        return
    from ops import bench, bench_pages  # noqa: F401 - bench_pages registers the page measurements (AppTest)

    url = args.db or bench.DEFAULT_BENCH_URL
    if args.explain:
        print(bench.explain_plans(url))
        return
    if args.load or args.capacity:
        from ops.capacity import run_command

        if not run_command(url, args):  # an invariant broken or an unexpected error
            raise SystemExit(1)
        return
    report = bench.run_bench(url, scale=args.scale, runs=args.runs, only=args.only)
    print(bench.format_table(report))
    if args.json:
        bench.write_json(report, args.json)
        print(f"Résultats écrits dans {args.json}")
    if not bench.all_ok(report):
        raise SystemExit(1)


def _browser_bench(args: argparse.Namespace) -> None:
    """Screens timed in Chromium on the demo data: a fresh demo database unless --db names one."""
    from ops import bench, bench_browser

    report = bench_browser.run_browser_bench(args.db, runs=args.runs or bench_browser.DEFAULT_RUNS)
    print(bench_browser.format_markdown(report))
    if args.json:
        bench.write_json(report, args.json)
        print(f"Résultats écrits dans {args.json}")


CREATE_USER_OPTIONS = {"role": "--role", "email": "--email", "first_name": "--first-name", "last_name": "--last-name",
                       "phone": "--phone", "ars_code": "--ars", "establishment_ids": "--finess", "pool_id": "--plateforme"}


def _cmd_create_user(args: argparse.Namespace) -> None:
    """The first accounts of a fresh deployment, opened by the operator (same service as the page « Comptes »)."""
    import sqlalchemy as sa

    from core.access.administration import NewAccount, create_account, establishment_ids_for
    from core.shared.actor import COMMAND_LINE
    from core.shared.config import get_settings
    from core.shared.errors import FormErrors, ValidationError
    from db.models import TerritorialPool
    from db.session import session_scope

    try:
        with session_scope(args.db) as session:
            ids = establishment_ids_for(session, actor=COMMAND_LINE, identifiers=tuple(args.finess or ()))
            pool_id = None
            if args.plateforme:
                pool_id = session.scalar(sa.select(TerritorialPool.id).where(
                    sa.func.upper(TerritorialPool.code) == args.plateforme.strip().upper()))
                if pool_id is None:
                    raise ValidationError("pool_id", f"aucune plateforme territoriale ne porte le code "
                                                     f"« {args.plateforme} ».")
            created = create_account(session, actor=COMMAND_LINE, account=NewAccount(
                role=args.role, email=args.email, first_name=args.first_name, last_name=args.last_name,
                phone=args.phone or "", ars_code=args.ars, establishment_ids=ids, pool_id=pool_id))
    except (FormErrors, ValidationError) as error:
        problems = error.errors if isinstance(error, FormErrors) else [error]
        raise DomainError("\n".join(f"{CREATE_USER_OPTIONS.get(p.field, p.field)} : {p.message}"
                                     for p in problems)) from error
    print(f"Compte créé : {created.email} (rôle {args.role}).")
    if get_settings().smtp_configured:
        print("Le courriel d'activation partira au prochain passage du worker (python -m core worker).")
    else:
        print("Aucun serveur SMTP configuré (RENFORT_SMTP_HOST) : transmettez ce lien d'activation au titulaire "
              "du compte (valable 72 heures, usage unique) :")
        print(created.link)


def _day(text: str) -> date:
    """A date typed as AAAA-MM-JJ or JJ/MM/AAAA."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"date invalide : « {text} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)")


def _cmd_export(args: argparse.Namespace) -> None:
    """The page « Exports »'s services, run by the platform's operator: recorded, then streamed to a file."""
    from core.figures.datasets import ExportFilters
    from core.figures.exports import ExportRequest, build_export, prepare_export
    from core.shared.actor import COMMAND_LINE
    from db.session import session_scope

    out = Path(args.out)
    file_format = out.suffix.lower().lstrip(".")
    if file_format not in ("xlsx", "csv"):
        raise DomainError("--out : le fichier doit se terminer par .xlsx ou .csv.")
    request = ExportRequest(args.dataset, ExportFilters(
        ars_code=args.ars, department_code=args.departement, profession_code=args.profession,
        category_code=args.categorie, start=args.start, end=args.end, statuses=tuple(args.statut or ())),
        nominative=args.nominatif, file_format=file_format, step=args.par)
    with session_scope(args.db) as session:
        receipt = prepare_export(session, actor=COMMAND_LINE, request=request)
    # The rows from the read replica when one is configured, once it holds the Event just recorded.
    # Streamed into the file as it is made: the whole workforce (1.5 million rows) never sits in memory.
    with session_scope(args.db, replica=True, caught_up=True) as session, open(out, "wb") as target:
        exported = build_export(session, actor=COMMAND_LINE, receipt=receipt, progress=_progress_on_terminal,
                                target=target)
    kind = "nominatif" if args.nominatif else "pseudonymisé"
    print(f"{exported.rows} ligne(s) exportée(s) dans {out} (export {kind}, inscrit au journal : événement "
          f"n° {receipt.event_id}).")


def _progress_on_terminal(done: int, expected: int) -> None:
    if sys.stderr.isatty() and (done % 10_000 == 0 or done == expected):
        print(f"\r{done} / {expected} lignes", end="\n" if done == expected else "", file=sys.stderr, flush=True)


def _cmd_import_establishments(args: argparse.Namespace) -> None:
    """The ministry's template, filled, imported by the operator: the same service as the page « Import
    d'établissements » (any region; --dry-run shows the preview and writes nothing)."""
    from pathlib import Path

    from core.access.establishment_import import (
        EXISTING,
        REJECTED,
        TO_CREATE,
        import_establishments,
        preview_import,
        rejected_rows_xlsx,
    )
    from core.shared.actor import COMMAND_LINE
    from db.session import session_scope

    source = Path(args.file)
    if not source.is_file():
        raise DomainError(f"Fichier introuvable : {args.file}")
    with session_scope(args.db, read_only=args.dry_run) as session:
        service = preview_import if args.dry_run else import_establishments
        report = service(session, actor=COMMAND_LINE, content=source.read_bytes())
    for row in report.rows:
        for text in (*row.notes, *row.reasons):
            print(f"Ligne {row.line} ({row.outcome}) : {text}")
    if args.dry_run:
        counts = report.counts
        print(f"Aperçu de la feuille « {report.sheet} », rien n'est écrit : {counts[TO_CREATE]} à créer, "
              f"{counts[EXISTING]} déjà existant(s), {counts[REJECTED]} rejeté(s).")
    else:
        print(report.summary())
    if args.rejected and report.rejected:
        Path(args.rejected).write_bytes(rejected_rows_xlsx(report))
        print(f"Lignes rejetées, avec leur motif : {args.rejected}")


def _cmd_purge(args: argparse.Namespace) -> None:
    """GDPR: volunteers without activity since --before are anonymised (never one with a live proposal); the
    application dossiers whose campaign's follow-up ended before it are deleted with their PDFs."""
    from core.campaigns.retention import purge_dossiers
    from core.shared.actor import COMMAND_LINE
    from core.volunteers.privacy import purge_inactive
    from db.session import session_scope

    with session_scope(args.db) as session:
        print(purge_inactive(session, actor=COMMAND_LINE, before=args.before, dry_run=args.dry_run))
        print(purge_dossiers(session, actor=COMMAND_LINE, before=args.before, dry_run=args.dry_run))


def parser_with_database(prog: str, description: str) -> tuple[argparse.ArgumentParser, Any, argparse.ArgumentParser]:
    """A command line whose --db is accepted before or after the command (python -m core bench --db URL): the
    parser, its subcommands, and the parent parser each subcommand takes."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--db", help="URL de la base (par défaut RENFORT_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", default=argparse.SUPPRESS, help="URL de la base (par défaut RENFORT_DATABASE_URL)")
    return parser, sub, database


def build_parser() -> argparse.ArgumentParser:
    parser, sub, database = parser_with_database("python -m core", "Renfort RH — commandes")
    sub.add_parser("migrate", parents=[database], help="crée ou met à jour le schéma et les référentiels").set_defaults(
        func=_cmd_migrate
    )
    seed = sub.add_parser("seed", parents=[database], help="jeu de données de démonstration")
    seed.add_argument("--demo", action="store_true", help="données de démonstration (~3 000 volontaires)")
    seed.add_argument("--scale", choices=["national", "workforce"],
                      help="national : 100 000 volontaires, 10 000 établissements ; workforce : 1 500 000 volontaires, "
                           "100 000 établissements (PostgreSQL conseillé)")
    seed.add_argument("--seed", type=int, default=2020, help="graine du générateur (déterministe)")
    seed.add_argument("--if-empty", action="store_true", help="ne rien faire si la base contient déjà des données")
    seed.set_defaults(func=_cmd_seed)
    worker = sub.add_parser("worker", parents=[database], help="envoie les courriels et exécute les tâches périodiques")
    worker.add_argument("--once", action="store_true", help="un seul passage puis arrêt")
    worker.add_argument("--interval", type=float, default=30, help="secondes entre deux passages")
    worker.set_defaults(func=_cmd_worker)
    bench = sub.add_parser("bench", parents=[database], help="mesure les temps de réponse sur le jeu national")
    bench.add_argument("--scale", choices=["national", "workforce", "current"], default="national",
                       help="national : construit le jeu national si la base est vide ; current : la base telle quelle")
    bench.add_argument("--json", help="fichier JSON des résultats")
    bench.add_argument("--runs", type=int, help="nombre d'essais par opération (30 par défaut, 5 avec --browser)")
    bench.add_argument("--only", nargs="*", help="seulement ces opérations (clés)")
    bench.add_argument("--explain", action="store_true",
                       help="plans d'exécution PostgreSQL (candidats, tableau de bord, affectés, indicateurs d'une ARS)")
    bench.add_argument("--load", action="store_true",
                       help="test de charge : établissements, ARS et CCS simultanés, répartis sur plusieurs processus")
    bench.add_argument("--capacity", action="store_true",
                       help="courbe de capacité : le test de charge à chaque nombre de --users (ex. 25,50,100,200,400)")
    bench.add_argument("--browser", action="store_true",
                       help="temps d'affichage dans Chromium sur les données de démonstration (base neuve, sauf --db)")
    bench.add_argument("--users", default="25",
                       help="personnes simulées (--load : 25 par défaut ; --capacity : une liste, ex. 25,50,100,200,400)")
    bench.add_argument("--processes", type=int, default=2, help="processus du test de charge (2 par défaut)")
    bench.add_argument("--think", default="1-3", help="secondes de réflexion entre deux actions (1-3 par défaut)")
    bench.add_argument("--seconds", type=float, default=30, help="durée du test de charge, de chaque point de la courbe")
    bench.add_argument("--chart", help="--capacity : graphique (.svg ; par défaut docs/<nom du --json>.svg)")
    bench.set_defaults(func=_cmd_bench)
    create_user = sub.add_parser("create-user", parents=[database],
                                 help="ouvre un compte (premiers comptes d'un déploiement) et donne son lien d'activation")
    create_user.add_argument("--role", required=True, help="admin, ccs, ministere, ars, pool ou etablissement")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--first-name", required=True, help="prénom")
    create_user.add_argument("--last-name", required=True, help="nom")
    create_user.add_argument("--phone", help="téléphone (facultatif)")
    create_user.add_argument("--ars", help="code de la région (ARS) : rôles ars et pool, ex. 52")
    create_user.add_argument("--finess", action="append",
                             help="FINESS ou GID d'un établissement validé (rôle etablissement ; répétable)")
    create_user.add_argument("--plateforme", help="code de la plateforme territoriale coordonnée (rôle pool), "
                                                  "ex. PT33-K7Q2M")
    create_user.set_defaults(func=_cmd_create_user)
    export = sub.add_parser("export", parents=[database],
                            help="exporte un jeu de données (.xlsx ou .csv), pseudonymisé sauf --nominatif")
    export.add_argument("dataset", choices=["missions", "affectations", "professionnels", "etablissements",
                                            "statistiques", "alertes"])
    export.add_argument("--out", required=True, help="fichier à écrire : .xlsx ou .csv (UTF-8 avec BOM, « ; »)")
    export.add_argument("--ars", help="une région (code INSEE de l'ARS, ex. 52)")
    export.add_argument("--departement", help="un département (ex. 44)")
    export.add_argument("--profession", help="une profession (code, ex. infirmier_de)")
    export.add_argument("--categorie", help="une catégorie d'établissement (code)")
    export.add_argument("--from", dest="start", type=_day, help="début de la période (AAAA-MM-JJ ou JJ/MM/AAAA)")
    export.add_argument("--to", dest="end", type=_day, help="fin de la période (AAAA-MM-JJ ou JJ/MM/AAAA)")
    export.add_argument("--statut", action="append", help="un statut des lignes (code ; répétable)")
    export.add_argument("--par", choices=["semaine", "jour"], default="semaine",
                        help="statistiques : postes par semaine ou par jour de début des missions")
    export.add_argument("--nominatif", action="store_true",
                        help="noms et coordonnées des personnes (sinon pseudonymes, département au lieu de la commune)")
    export.set_defaults(func=_cmd_export)
    import_parser = sub.add_parser("import-establishments", parents=[database],
                                   help="importe les établissements et leurs comptes depuis le modèle du ministère (.xlsx)")
    import_parser.add_argument("file", help="le modèle rempli (.xlsx)")
    import_parser.add_argument("--dry-run", action="store_true", help="aperçu ligne par ligne, rien n'est écrit")
    import_parser.add_argument("--rejets", dest="rejected", help="écrit les lignes rejetées et leur motif dans ce .xlsx")
    import_parser.set_defaults(func=_cmd_import_establishments)
    purge = sub.add_parser("purge", parents=[database],
                           help="anonymise les volontaires sans activité depuis une date et supprime les dossiers "
                                "d'appels à candidatures dont le suivi a pris fin avant elle (RGPD)")
    purge.add_argument("--before", required=True, help="date limite (AAAA-MM-JJ ou JJ/MM/AAAA)")
    purge.add_argument("--dry-run", action="store_true", help="compte sans rien anonymiser")
    purge.set_defaults(func=_cmd_purge)
    simulation_command.add_parser(sub, database)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DomainError as error:
        print(f"Erreur : {error.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
