"""The establishment's dossiers of one application campaign as a recap: the table of the page, its printable HTML
version and the order after a « Monter » / « Descendre » (pure functions)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from core.shared.clock import paris_datetime

DASH = "–"
COLUMNS = ("Priorité", "Candidat", "Statut du candidat", "Structure partenaire", "État", "Éléments manquants", "Pièces",
           "Confirmé le")  # then « Décision » once the results are published


def _text(value: Any) -> str:
    return DASH if value is None or value == "" else str(value)


def recap_rows(rows: Sequence[dict[str, Any]], *, with_decision: bool) -> list[dict[str, str]]:
    """One line per dossier, by priority, in the words of the page (every cell a string: nothing reads « None »)."""
    found = []
    for row in rows:
        line = {
            "Priorité": _text(row["priority"]), "Candidat": row["candidate"],
            "Statut du candidat": _text(row["candidate_status"]), "Structure partenaire": _text(row["partner"]),
            "État": row["state_label"], "Éléments manquants": str(row["missing_count"]),
            "Pièces": f"{row['documents']}/{row['documents_required']}",
            "Confirmé le": paris_datetime(row["confirmed_at"]) if row["confirmed_at"] else DASH,
        }
        if with_decision:
            line["Décision"] = _text(row["decision_label"])
        found.append(line)
    return found


def recap_frame(rows: Sequence[dict[str, Any]], *, with_decision: bool) -> pd.DataFrame:
    return pd.DataFrame(recap_rows(rows, with_decision=with_decision),
                        columns=[*COLUMNS, *(["Décision"] if with_decision else [])])


PRINT_STYLE = """
  body { font-family: Arial, Helvetica, sans-serif; color: #161616; margin: 2rem; }
  h1 { color: #000091; font-size: 1.4rem; margin-bottom: .25rem; }
  p { margin: .25rem 0; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-size: .9rem; }
  th, td { border: 1px solid #929292; padding: .35rem .5rem; text-align: left; vertical-align: top; }
  th { background: #E3E3FD; }
  tr { page-break-inside: avoid; }
  .hint { color: #666; font-size: .85rem; }
  @media print {
    @page { size: A4 landscape; margin: 12mm; }
    body { margin: 0; }
    .hint { display: none; }
    th { background: #E3E3FD !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  }
"""


def printable_html(*, campaign: str, establishment: str, rows: Sequence[dict[str, Any]], with_decision: bool,
                   now: datetime) -> bytes:
    """A self-contained HTML page of the recap, with a print stylesheet (A4 landscape): the user opens it and
    prints it. Every text is escaped; the page holds no script."""
    lines = recap_rows(rows, with_decision=with_decision)
    headers = [*COLUMNS, *(["Décision"] if with_decision else [])]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(line[h])}</td>" for h in headers) + "</tr>" for line in lines)
    if not lines:
        body = f'<tr><td colspan="{len(headers)}">Aucun dossier déposé.</td></tr>'
    title = f"Dossiers de candidature — {campaign}"
    page = (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{PRINT_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p><strong>Établissement :</strong> {html.escape(establishment)}</p>\n"
        f"<p><strong>Récapitulatif au</strong> {html.escape(paris_datetime(now))} — {len(lines)} dossier(s), par "
        "ordre de priorité.</p>\n"
        '<p class="hint">Pour imprimer ce récapitulatif, utilisez la commande Imprimer de votre navigateur '
        "(Ctrl+P).</p>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def moved(ids: Sequence[int], dossier_id: int, step: int) -> list[int]:
    """The dossiers' order after moving one up (step -1) or down (+1); unchanged at either end."""
    order = list(ids)
    position = order.index(dossier_id)
    target = position + step
    if 0 <= target < len(order):
        order[position], order[target] = order[target], order[position]
    return order
