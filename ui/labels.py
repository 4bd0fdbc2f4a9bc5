"""French labels of domain codes, for display only."""

ROLE_LABELS = {
    "etablissement": "Établissement",
    "professionnel": "Professionnel volontaire",
    "ars": "ARS",
    "ccs": "Centre de crise sanitaire",
    "ministere": "Ministère",
    "admin": "Administrateur",
    "pool": "Coordinateur de vivier territorial",
}

MISSION_STATUS = {
    "pending": "En attente de validation du compte",
    "open": "Ouverte",
    "filled": "Pourvue",
    "closed": "Clôturée",
    "archived": "Archivée",
}

PROFESSIONAL_STATUS = {
    "disponible": "Disponible",
    "indisponible": "Indisponible",
    "en_cours": "En cours (proposé par l'ARS)",
    "contacte": "Contacté",
    "affecte": "Affecté",
    "supprime": "Supprimé",
}

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

PROPOSAL_STATE = {
    "en_cours": "En cours (proposé par l'ARS)",
    "contacte": "Contacté",
    "affecte": "Affecté",
    "refuse": "Refusé",
    "libere": "Libéré",
    "annule": "Affectation annulée",
    "termine": "Mission terminée",
}
