"""French words for the domain's codes, shared by the pages, the exports and the journal."""

from __future__ import annotations

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
    "en_cours": "En cours (proposé à l'établissement)",
    "contacte": "Contacté",
    "affecte": "Affecté",
    "supprime": "Supprimé",
}

PROPOSAL_STATE = {
    "en_cours": "En cours (proposé à l'établissement)",
    "contacte": "Contacté",
    "affecte": "Affecté",
    "refuse": "Refusé",
    "libere": "Libéré",
    "annule": "Affectation annulée",
    "termine": "Mission terminée",
    "decline": "Décliné par le volontaire",
}

# Why a volunteer declines a proposal (db.models.DeclineReason), in « Mes missions » and the candidate lists
DECLINE_REASONS = {
    "deja_engage": "Déjà engagé(e) ailleurs",
    "trop_loin": "Trop loin",
    "dates": "Les dates ne conviennent pas",
    "autre": "Autre raison",
}

ESTABLISHMENT_STATUS = {"pending": "En attente de validation", "active": "Actif", "rejected": "Refusé"}

ACCOUNT_STATUS = {"pending": "En attente", "active": "Actif", "disabled": "Désactivé", "rejected": "Refusé"}

# What an audit event's before/after may hold: a status of one of the objects above (same words where
# the codes meet), or on/off.
STATUS_WORDS = {**ACCOUNT_STATUS, **ESTABLISHMENT_STATUS, **MISSION_STATUS, **PROFESSIONAL_STATUS, **PROPOSAL_STATE,
                "on": "activé", "off": "désactivé"}
