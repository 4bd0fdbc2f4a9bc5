"""French labels of domain codes, for display only."""

from core.shared.labels import MISSION_STATUS, PROFESSIONAL_STATUS, PROPOSAL_STATE, ROLE_LABELS

__all__ = ["ACTIVITY", "MISSION_STATUS", "MOBILITY", "PROFESSIONAL_STATUS", "PROPOSAL_STATE", "ROLE_LABELS", "yes_no"]

MOBILITY = {
    "locale": "Locale (30 km autour de chez moi)",
    "departementale": "Départementale",
    "regionale": "Régionale",
    "nationale": "Nationale",
}

ACTIVITY = {
    "salarie": "Salarié(e)",
    "liberal": "Libéral(e)",
    "mixte": "Mixte (salarié et libéral)",
    "retraite": "Retraité(e)",
    "etudiant": "Étudiant(e)",
    "sans_activite": "Sans activité actuellement",
}


def yes_no(flag: bool) -> str:
    # Words, not ✓/✗: the cross renders as an italic "X" in the table font and reads as an error.
    return "Oui" if flag else "Non"
