"""Every e-mail of the platform, in French, plain text and HTML, each written in one place."""

from __future__ import annotations

import html
from dataclasses import dataclass

from core.shared.config import get_settings

ACTIVATION_PATH = "activer-mon-compte"  # the page that reads ?jeton=… and sets the password
AVAILABILITY_PATH = "toujours-disponible"  # the page that reads ?jeton=… and confirms or pauses
SIGNATURE = "L'équipe Renfort RH"
FOOTER = (
    "Ce message a été envoyé automatiquement par la plateforme Renfort RH ; "
    "merci de ne pas y répondre directement."
)


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def link_to(path: str, **query: str) -> str:
    """An absolute link into the app (RENFORT_BASE_URL)."""
    url = f"{get_settings().base_url}/{path.lstrip('/')}"
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def _compose(subject: str, greeting: str, paragraphs: list[str], link: Link | None = None,
             details: list[tuple[str, str]] | None = None) -> EmailContent:
    """Text and HTML built from the same parts, so that both always say the same thing."""
    text = [greeting, ""]
    body = [f"<p>{html.escape(greeting)}</p>"]
    for paragraph in paragraphs:
        text += [paragraph, ""]
        body.append(f"<p>{html.escape(paragraph)}</p>".replace("\n", "<br>"))  # a multi-line reason keeps its lines
    if details:
        text += [f"- {label} : {value}" for label, value in details] + [""]
        rows = "".join(
            f"<tr><td style='padding:2px 12px 2px 0;color:#666'>{html.escape(label)}</td>"
            f"<td style='padding:2px 0'><strong>{html.escape(value)}</strong></td></tr>"
            for label, value in details
        )
        body.append(f"<table>{rows}</table>")
    if link:
        text += [f"{link.label} : {link.url}", ""]
        body.append(
            f"<p><a href='{html.escape(link.url, quote=True)}' style='background:#000091;color:#fff;"
            f"padding:8px 16px;text-decoration:none;border-radius:4px'>{html.escape(link.label)}</a></p>"
            f"<p style='font-size:12px;color:#666'>Si le bouton ne fonctionne pas, copiez cette adresse "
            f"dans votre navigateur : {html.escape(link.url)}</p>"
        )
    text += [SIGNATURE, "", FOOTER]
    body += [f"<p>{SIGNATURE}</p>", f"<p style='font-size:12px;color:#666'>{FOOTER}</p>"]
    page = (
        "<html><body style='font-family:Arial,sans-serif;color:#161616;max-width:640px'>"
        "<p style='color:#000091;font-weight:bold;font-size:18px'>Renfort RH</p>"
        + "".join(body)
        + "</body></html>"
    )
    return EmailContent(subject=subject, text="\n".join(text), html=page)


def account_request_received(first_name: str, establishment: str, ars_name: str, missions: int) -> EmailContent:
    needs = f"{missions} besoin{'s' if missions > 1 else ''}"
    return _compose(
        "Renfort RH — votre demande de compte est prise en compte",
        f"Bonjour {first_name},",
        [
            f"Votre demande de compte pour « {establishment} » et {needs} ont bien été enregistrés.",
            f"L'ARS {ars_name} va vérifier votre demande. Dès qu'elle sera validée, vous recevrez un "
            "courriel avec un lien pour choisir votre mot de passe.",
        ],
    )


# Every e-mail that opens an account ends with the same instructions for its single-use link.
CHOOSE_PASSWORD = ("Choisissez votre mot de passe avec le lien ci-dessous. Il est valable 72 heures, ne peut servir "
                   "qu'une fois et remplace tout lien envoyé précédemment ; passé ce délai, utilisez « Mot de passe "
                   "oublié ? ».")


def account_validated(first_name: str, establishment: str, link: str) -> EmailContent:
    return _compose(
        "Renfort RH — votre compte est validé",
        f"Bonjour {first_name},",
        [
            f"Votre compte pour « {establishment} » a été validé et vos besoins sont désormais visibles.",
            CHOOSE_PASSWORD,
        ],
        Link("Activer mon compte", link),
    )


def establishment_account_opened(first_name: str, establishment: str, ars_name: str, link: str) -> EmailContent:
    """Bulk import from the ministry's template: the account exists already, the user only sets a password."""
    return _compose(
        "Renfort RH — un compte a été ouvert pour votre établissement",
        f"Bonjour {first_name},",
        [
            f"Un compte Renfort RH a été ouvert pour vous pour « {establishment} » (ARS {ars_name}). "
            "Vous pourrez y déposer vos besoins de renfort et choisir des professionnels.",
            CHOOSE_PASSWORD,
        ],
        Link("Activer mon compte", link),
    )


def account_rejected(first_name: str, establishment: str, reason: str) -> EmailContent:
    return _compose(
        "Renfort RH — votre demande de compte n'a pas été retenue",
        f"Bonjour {first_name},",
        [
            f"Votre demande de compte pour « {establishment} » n'a pas été validée.",
            f"Motif indiqué par l'ARS : {reason}",
            "Vous pouvez déposer une nouvelle demande corrigée à tout moment.",
        ],
    )


def account_created(first_name: str, link: str) -> EmailContent:
    """An account opened by an administrator, the CCS or an ARS (« Comptes », `python -m core create-user`)."""
    return _compose(
        "Renfort RH — votre compte est créé",
        f"Bonjour {first_name},",
        [
            "Un compte vient d'être ouvert pour vous sur Renfort RH, la plateforme de régulation des renforts "
            "en personnel de santé.",
            CHOOSE_PASSWORD,
        ],
        Link("Activer mon compte", link),
    )


def password_link(first_name: str, link: str) -> EmailContent:
    return _compose(
        "Renfort RH — choisir votre mot de passe",
        f"Bonjour {first_name},",
        [
            "Vous avez demandé un lien pour choisir votre mot de passe. Il est valable 72 heures et "
            "ne peut servir qu'une fois ; les liens envoyés précédemment ne fonctionnent plus.",
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe "
            "actuel reste valable.",
        ],
        Link("Choisir mon mot de passe", link),
    )


def availability_check(first_name: str, days: int, link: str, link_days: int) -> EmailContent:
    return _compose(
        "Renfort RH — êtes-vous toujours disponible ?",
        f"Bonjour {first_name},",
        [
            f"Vous n'avez pas confirmé vos disponibilités depuis {days} jours. Les établissements voient en "
            "premier les volontaires dont les informations sont à jour.",
            "D'un clic, dites-nous si vous êtes toujours disponible, ou mettez votre profil en pause : vous "
            f"pourrez le réactiver à tout moment. Le lien sert une fois et vaut {link_days} jours.",
        ],
        Link("Répondre : toujours disponible ?", link),
    )


def volunteer_welcome(first_name: str, profession: str, link: str) -> EmailContent:
    return _compose(
        "Renfort RH — merci pour votre inscription",
        f"Bonjour {first_name},",
        [
            f"Merci de proposer votre aide ({profession}). Votre inscription est enregistrée : "
            "les établissements de votre zone de mobilité peuvent désormais vous solliciter.",
            "Activez votre compte pour mettre à jour vos disponibilités, suivre vos missions ou "
            "supprimer vos données. Le lien est valable 72 heures.",
        ],
        Link("Activer mon compte", link),
    )


def _period(start, end) -> str:  # noqa: ANN001
    return f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}"


MY_MISSIONS_PATH = "mes-missions"  # « Mes missions »: where a volunteer answers a request


def volunteer_contacted(first_name: str, establishment: str, city: str, profession: str, start,  # noqa: ANN001
                        end) -> EmailContent:  # noqa: ANN001
    return _compose(
        "Renfort RH — un établissement vous a réservé(e) pour une mission",
        f"Bonjour {first_name},",
        [f"« {establishment} » ({city}) vous a réservé(e) pour la mission « {profession} » {_period(start, end)} "
         "et va vous appeler.",
         "Répondez-lui depuis « Mes missions » : « Je suis intéressé(e) » ou « Décliner ». Tant que vous êtes "
         "réservé(e), aucun autre établissement ne peut vous solliciter : votre réponse, même négative, libère "
         "votre profil au plus vite."],
        Link("Répondre dans « Mes missions »", link_to(MY_MISSIONS_PATH)),
    )


def assignment_confirmed(first_name: str, establishment: str, address: str, profession: str, start, end,  # noqa: ANN001
                         validator_email: str, contact: str | None) -> EmailContent:
    details = [("Établissement", establishment), ("Adresse", address), ("Mission", profession),
               ("Période", _period(start, end)), ("Contact", contact or validator_email)]
    return _compose(
        "Renfort RH — votre affectation est confirmée",
        f"Bonjour {first_name},",
        [f"L'établissement « {establishment} » a validé votre candidature. Merci pour votre engagement !",
         f"Pour toute question avant votre arrivée, écrivez à {validator_email}."],
        details=details,
    )


def assignment_cancelled(first_name: str, establishment: str, start, end, reason: str) -> EmailContent:  # noqa: ANN001
    return _compose(
        "Renfort RH — votre affectation est annulée",
        f"Bonjour {first_name},",
        [f"L'établissement « {establishment} » a annulé votre affectation {_period(start, end)}.",
         f"Motif indiqué : {reason}",
         "Vous êtes de nouveau disponible pour d'autres missions."],
    )


CHOOSE_PATH = "choisir"  # « Choisir des renforts »: where an establishment contacts, validates or refuses
MISSION_QUERY = "mission"  # the query parameter that opens « Choisir des renforts » on one mission


def choose_link(mission_id: int) -> str:
    """« Choisir des renforts » opened on this mission (the page reads MISSION_QUERY once)."""
    return link_to(CHOOSE_PATH, **{MISSION_QUERY: str(mission_id)})


def volunteer_declined(first_name: str, volunteer: str, profession: str, start, end) -> EmailContent:  # noqa: ANN001
    return _compose(
        "Renfort RH — un professionnel a décliné votre demande",
        f"Bonjour {first_name},",
        [f"{volunteer} a décliné votre demande pour la mission « {profession} » {_period(start, end)}.",
         "Vous pouvez choisir un autre professionnel depuis votre tableau de bord."],
        Link("Ouvrir mon tableau de bord", link_to("tableau-de-bord")),
    )


def volunteer_interested(first_name: str, volunteer: str, profession: str, start, end,  # noqa: ANN001
                         link: str, pushed: bool) -> EmailContent:
    # A pushed volunteer is not reserved yet: the establishment contacts them before it can validate.
    next_step = ("Réservez-le puis validez sa candidature" if pushed else "Validez sa candidature")
    return _compose(
        "Renfort RH — un professionnel est intéressé par votre mission",
        f"Bonjour {first_name},",
        [f"{volunteer} s'est dit(e) intéressé(e) par votre mission « {profession} » {_period(start, end)}.",
         f"{next_step} depuis « Choisir des renforts » : il reçoit alors la confirmation et vos coordonnées. "
         "Si vous ne le retenez pas, refusez sa candidature pour qu'il reste disponible pour d'autres "
         "établissements."],
        Link("Valider ou refuser", link),
    )


def reservation_reminder(first_name: str, volunteer: str, profession: str, days: int, expiry_days: int) -> EmailContent:
    return _compose(
        "Renfort RH — un professionnel attend votre réponse",
        f"Bonjour {first_name},",
        [f"Vous avez réservé {volunteer} pour la mission « {profession} » il y a {days} jours.",
         "Validez ou refusez sa candidature : tant qu'il est réservé, aucun autre établissement ne peut "
         f"le solliciter. Sans réponse, la réservation sera levée après {expiry_days} jours."],
        Link("Ouvrir mon tableau de bord", link_to("tableau-de-bord")),
    )


def reservation_released(first_name: str, volunteer: str, profession: str, days: int) -> EmailContent:
    return _compose(
        "Renfort RH — réservation levée faute de réponse",
        f"Bonjour {first_name},",
        [f"Sans réponse de votre part depuis {days} jours, la réservation de {volunteer} pour la mission "
         f"« {profession} » a été levée : ce professionnel est de nouveau disponible pour tous."],
    )


def volunteer_released(first_name: str, establishment: str) -> EmailContent:
    return _compose(
        "Renfort RH — vous êtes de nouveau disponible",
        f"Bonjour {first_name},",
        [f"L'établissement « {establishment} » n'a pas donné suite à sa demande : vous êtes de nouveau "
         "disponible pour d'autres missions."],
    )


ARS_SENDER = "l'ARS"  # who pushes a volunteer to a mission: the ARS or the CCS, else a territorial pool (pool_sender)


def pool_sender(pool: str) -> str:
    return f"la plateforme territoriale « {pool} »"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def pushed_to_volunteer(first_name: str, establishment: str, profession: str, start, end,  # noqa: ANN001
                        sender: str = ARS_SENDER) -> EmailContent:
    return _compose(
        f"Renfort RH — {sender} vous propose à un établissement",
        f"Bonjour {first_name},",
        [f"{_capitalised(sender)} vous a proposé(e) à « {establishment} » pour la mission « {profession} » "
         f"{_period(start, end)}.",
         "L'établissement va vous contacter. Si vous n'êtes plus disponible, déclinez depuis « Mes missions »."],
        Link("Ouvrir « Mes missions »", link_to(MY_MISSIONS_PATH)),
    )


def pushed_to_establishment(first_name: str, volunteer: str, profession: str, start, end,  # noqa: ANN001
                            sender: str = ARS_SENDER) -> EmailContent:
    return _compose(
        f"Renfort RH — {sender} vous propose un renfort",
        f"Bonjour {first_name},",
        [f"{_capitalised(sender)} vous propose {volunteer} pour votre mission « {profession} » {_period(start, end)}.",
         "Contactez ce professionnel depuis « Choisir des renforts », puis validez ou refusez sa candidature."],
        Link("Choisir des renforts", link_to(CHOOSE_PATH)),
    )


# ---------------------------------------------------------------- territorial pools: the roster (by consent only)

PROFILE_PATH = "mon-profil"  # « Mon profil »: where a volunteer answers an invitation or leaves a pool


def pool_invitation(first_name: str, pool: str, department: str, coordinator: str) -> EmailContent:
    return _compose(
        "Renfort RH — invitation à rejoindre une plateforme territoriale",
        f"Bonjour {first_name},",
        [f"{coordinator}, qui coordonne la plateforme territoriale « {pool} » ({department}), vous invite à "
         "rejoindre son vivier de renforts : les établissements médico-sociaux membres de la plateforme (EHPAD, "
         "services à domicile) vous verront en tête de leurs candidats, et la plateforme pourra vous proposer "
         "leurs missions.",
         "Vous restez dans le vivier national et libre de refuser chaque mission. Acceptez ou déclinez cette "
         "invitation depuis « Mon profil » ; vous pourrez quitter la plateforme à tout moment."],
        Link("Répondre depuis « Mon profil »", link_to(PROFILE_PATH)),
    )


def pool_member_released(first_name: str, pool: str) -> EmailContent:
    return _compose(
        "Renfort RH — vous rejoignez le vivier national",
        f"Bonjour {first_name},",
        [f"La plateforme territoriale « {pool} », auprès de laquelle vous vous êtes inscrit(e), vous ouvre au vivier "
         "national : les autres établissements de votre zone de mobilité peuvent désormais vous solliciter aussi.",
         "Vous restez membre de la plateforme. Si vous ne le souhaitez pas, rendez-vous indisponible ou quittez la "
         "plateforme depuis « Mon profil »."],
        Link("Ouvrir « Mon profil »", link_to(PROFILE_PATH)),
    )


def pool_member_removed(first_name: str, pool: str, paused: bool) -> EmailContent:
    paragraphs = [f"La plateforme territoriale « {pool} » vous a retiré(e) de son vivier."]
    if paused:
        paragraphs.append("Vous vous étiez inscrit(e) pour cette plateforme seulement : votre profil est mis en "
                          "pause. Rendez-vous disponible depuis « Mon profil » si vous souhaitez rejoindre le vivier "
                          "national.")
    else:
        paragraphs.append("Vous restez inscrit(e) dans le vivier national.")
    return _compose("Renfort RH — fin de votre participation à une plateforme territoriale", f"Bonjour {first_name},",
                    paragraphs, Link("Ouvrir « Mon profil »", link_to(PROFILE_PATH)))


def ccs_alert(first_name: str, region: str, establishment: str, profession: str, message: str) -> EmailContent:
    return _compose(
        f"Renfort RH — alerte de l'ARS {region}",
        f"Bonjour {first_name},",
        [f"L'ARS {region} signale une mission qu'elle ne parvient pas à pourvoir : « {profession} » pour "
         f"« {establishment} ».", f"Message de l'ARS : {message}"],
        Link("Ouvrir les alertes des ARS", link_to("alertes")),
    )


def alert_closed(first_name: str, establishment: str, profession: str, note: str) -> EmailContent:
    return _compose(
        "Renfort RH — alerte close par le CCS",
        f"Bonjour {first_name},",
        [f"Le CCS a clos votre alerte pour la mission « {profession} » de « {establishment} ».",
         f"Note du CCS : « {note} »"],
    )


def pools_opened(first_name: str, establishment: str, profession: str) -> EmailContent:
    return _compose(
        "Renfort RH — viviers nationaux ouverts",
        f"Bonjour {first_name},",
        [f"Le CCS a ouvert les viviers nationaux pour la mission « {profession} » de « {establishment} » : les "
         "volontaires des autres régions prêts à une mobilité nationale en sont désormais candidats."],
    )


# ---------------------------------------------------------------- territorial pools (the ARS's side)

POOL_PAGE_PATH = "ma-plateforme-territoriale"  # an establishment's page: its pool, or « Demander à rejoindre »


def pool_join_accepted(first_name: str, establishment: str, pool: str) -> EmailContent:
    return _compose(
        "Renfort RH — adhésion à la plateforme territoriale acceptée",
        f"Bonjour {first_name},",
        [f"« {establishment} » est désormais membre de la plateforme territoriale « {pool} ».",
         "Vos missions apparaissent dans la file de son coordinateur, qui peut vous proposer des professionnels "
         "de son vivier ; vous restez libre de choisir tout autre renfort."],
        Link("Voir ma plateforme territoriale", link_to(POOL_PAGE_PATH)),
    )


def pool_join_refused(first_name: str, establishment: str, pool: str, reason: str | None) -> EmailContent:
    paragraphs = [f"La demande d'adhésion de « {establishment} » à la plateforme territoriale « {pool} » n'a pas "
                  "été acceptée."]
    if reason:
        paragraphs.append(f"Motif : {reason}")
    paragraphs.append("Vous pouvez en reparler avec votre ARS ou le coordinateur de la plateforme, puis présenter "
                      "une nouvelle demande.")
    return _compose("Renfort RH — adhésion à la plateforme territoriale refusée", f"Bonjour {first_name},",
                    paragraphs, Link("Voir ma plateforme territoriale", link_to(POOL_PAGE_PATH)))


def pool_member_added(first_name: str, establishment: str, pool: str) -> EmailContent:
    return _compose(
        "Renfort RH — votre établissement rejoint une plateforme territoriale",
        f"Bonjour {first_name},",
        [f"L'ARS a inscrit « {establishment} » parmi les membres de la plateforme territoriale « {pool} ».",
         "Vos missions apparaissent dans la file de son coordinateur, qui peut vous proposer des professionnels "
         "de son vivier ; vous restez libre de choisir tout autre renfort."],
        Link("Voir ma plateforme territoriale", link_to(POOL_PAGE_PATH)),
    )


# ---------------------------------------------------------------- application campaigns (issue 15)

CAMPAIGNS_PATH = "appels-a-candidatures"  # the establishment's and the ARS's page of campaigns and dossiers


def dossier_acknowledged(campaign: str, establishment: str, partner: str, candidate: str, confirmed_at: str,
                         closes_at: str) -> EmailContent:
    """The acknowledgement of a confirmed dossier, as the source tool sends it: the partner structure and the
    candidate."""
    return _compose(
        f"Renfort RH — accusé de réception de votre dossier de candidature ({campaign})",
        "Bonjour,",
        [f"Le dossier de candidature de « {establishment} » pour l'appel à candidatures « {campaign} » est confirmé "
         f"et enregistré le {confirmed_at}.",
         f"Vous pouvez encore le modifier jusqu'à la clôture, le {closes_at} : toute modification devra être "
         "confirmée de nouveau, faute de quoi le dossier ne sera pas traité."],
        Link("Voir mes dossiers", link_to(CAMPAIGNS_PATH)),
        details=[("Structure de soins partenaire", partner), ("Candidat pressenti", candidate)],
    )


def campaign_results(campaign: str, establishment: str, partner: str, candidate: str, decision: str,
                     follow_up: str | None, recruiter: bool) -> EmailContent:
    """The results of a campaign, to each of a dossier's two partners."""
    paragraphs = [f"Les résultats de l'appel à candidatures « {campaign} » sont publiés."]
    if recruiter:
        paragraphs.append("La décision de l'ARS et sa motivation sont consultables dans l'onglet « Décision » du "
                          "dossier, avec les accès de l'établissement recruteur.")
    else:
        paragraphs.append(f"L'établissement recruteur « {establishment} » peut consulter la motivation de la "
                          "décision sur la plateforme.")
    if follow_up:
        paragraphs.append(follow_up)
    return _compose(
        f"Renfort RH — résultats de l'appel à candidatures « {campaign} »",
        "Bonjour,",
        paragraphs,
        Link("Voir la décision", link_to(CAMPAIGNS_PATH)) if recruiter else None,
        details=[("Établissement recruteur", establishment), ("Structure de soins partenaire", partner),
                 ("Candidat", candidate), ("Avis", decision)],
    )


def follow_up_reminder(campaign: str, what: str, due: str, partner: str, candidate: str) -> EmailContent:
    """Before one of the follow-up dates, to a favourable dossier that has not confirmed yet."""
    return _compose(
        f"Renfort RH — à confirmer avant le {due} ({campaign})",
        "Bonjour,",
        [f"Votre dossier retenu dans l'appel à candidatures « {campaign} » doit confirmer {what} au plus tard le "
         f"{due}.",
         "Répondez dans l'onglet « Suivi » du dossier."],
        Link("Confirmer", link_to(CAMPAIGNS_PATH)),
        details=[("Structure de soins partenaire", partner), ("Candidat", candidate)],
    )
