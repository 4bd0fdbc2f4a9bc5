"""The demo's application campaigns (issue 15): two calls of the ARS Île-de-France for « 400 postes de médecins
généralistes dans les territoires prioritaires », filed by the medical affairs offices of three Île-de-France
hospitals with small valid PDFs.

| campaign | on the seed's day | dossiers |
|---|---|---|
| vague 2027 | open, closes in 40 days | confirmed ×2, complete to confirm, incomplete (Candidat tab and PDFs missing) |
| vague 2026 | results published 120 days ago | favourable (project maintained, start to confirm), favourable (project not confirmed: late), défavorable, non recevable |

Everything goes through the real services (core.campaigns) on a clock set to the day each step would have
happened, so that every rule holds and each step has its audit Event and its e-mails in the outbox. Only the
establishments and their accounts are inserted, like the rest of the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.campaigns import campaigns as ars_side
from core.campaigns import dossiers, followup
from core.campaigns.fields import (
    COMMITMENTS,
    DEFAULT_DOCUMENTS,
    Candidate,
    CareStructure,
    HospitalActivity,
    Identification,
    Partnership,
)
from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import paris_today
from core.shared.validation import luhn_ok
from db import models as m
from ops.demo_pdf import text_pdf

REGION = "11"  # Île-de-France
CAMPAIGN_ARS = ("ars.iledefrance@example.org", "Nathalie", "Roux")
DEMO_OFFICE = "affaires.medicales@example.org"  # the medical affairs office of the first hospital, in the README
OPEN_TITLE = "400 postes de médecins généralistes dans les territoires prioritaires — vague 2027"
PAST_TITLE = "400 postes de médecins généralistes dans les territoires prioritaires — vague 2026"
LEGAL_REFERENCE = ("Instruction N°DGOS/DIR/2019/27 du 6 février 2019 relative à la mise en œuvre de la mesure « 400 "
                   "postes de médecins généralistes dans les territoires prioritaires »")
DESCRIPTION = ("Postes de médecins généralistes à temps partagé entre un établissement de santé et une structure "
               "d'exercice coordonné (centre de santé, maison de santé pluriprofessionnelle) d'un territoire "
               "prioritaire. Seul le bureau des affaires médicales de l'établissement recruteur dépose les dossiers, "
               "un par candidat. Tout dossier incomplet ou non confirmé à la clôture ne sera pas traité.")


@dataclass(frozen=True)
class Hospital:
    postal_code: str
    name: str
    office: tuple[str, str, str] | None  # the demo account (e-mail, first, last) that signs in, if any


HOSPITALS = (
    Hospital("93200", "Centre hospitalier Plaine Saint-Denis", (DEMO_OFFICE, "Amina", "Haddad")),
    Hospital("91100", "Centre hospitalier Seine-Essonne – Corbeil", None),
    Hospital("95100", "Centre hospitalier Val-d'Argent – Argenteuil", None),
)


@dataclass(frozen=True)
class Partner:
    name: str
    kind: str
    postal_code: str
    city: str
    director: str


PARTNERS = (
    Partner("Maison de santé pluriprofessionnelle Pleyel", "Maison de santé pluriprofessionnelle", "93200",
            "Saint-Denis", "Dr Karim Belkacem"),
    Partner("Centre de santé municipal de Stains", "Centre de santé", "93240", "Stains", "Dr Élise Martin"),
    Partner("Maison de santé des Tarterêts", "Maison de santé pluriprofessionnelle", "91100", "Corbeil-Essonnes",
            "Dr Paul Nguyen"),
    Partner("Centre de santé du Val d'Argent", "Centre de santé", "95100", "Argenteuil", "Dr Sarah Cohen"),
)


def demo_accounts() -> list[tuple[str, str, str]]:
    """Role, e-mail, what it is — the campaign seed's accounts that sign in with the demo password."""
    return [("ars", CAMPAIGN_ARS[0], "ARS Île-de-France (appels à candidatures)"),
            ("etablissement", DEMO_OFFICE, f"bureau des affaires médicales du {HOSPITALS[0].name}")]


def hospital_names() -> list[str]:
    return [hospital.name for hospital in HOSPITALS]


@dataclass
class CampaignSeedReport:
    campaigns: int = 0
    dossiers: int = 0

    def sentence(self) -> str:
        return (f"Appels à candidatures : {self.campaigns} de l'ARS Île-de-France, {self.dossiers} dossiers "
                "d'établissements.")


def _digits(builder: Any, count: int) -> str:
    return "".join(builder.rng.choices("0123456789", k=count))


def _with_luhn_key(base: str) -> str:
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


class CampaignSeeder:
    def __init__(self, builder: Any):
        self.builder = builder
        self.session: so.Session = builder.session
        self.now: datetime = builder.now
        self.report = CampaignSeedReport()
        self.hospitals: list[dict[str, Any]] = []  # establishment rows, with "id" and "hr" (a SessionUser)
        self.counter = 0

    def _actor(self, user_id: int) -> SessionUser:
        return to_session_user(self.session, user=self.session.get(m.User, user_id))

    def build_accounts(self) -> SessionUser:
        rows = []
        for hospital in HOSPITALS:
            row = self.builder._establishment_row(self.builder._place_in(hospital.postal_code), "loi_hospitaliere",
                                                  hospital.name)
            row.update(finess_category_code="355", created_at=self.now - timedelta(days=400))
            rows.append(row)
        users = []
        for row, identifier, hospital in zip(rows, self.builder._insert(m.Establishment, rows), HOSPITALS,
                                             strict=True):
            row["id"] = identifier
            if hospital.office:
                email, first, last = hospital.office
                password = self.builder.password_hash
            else:
                first, last = self.builder.fake.first_name(), self.builder.fake.last_name()
                email, password = self.builder._unique_email(first, last), None
            users.append(self.builder._user_row(email, first, last, "etablissement", password_hash=password))
        user_ids = self.builder._insert(m.User, users)
        self.session.execute(sa.insert(m.Membership), [{"user_id": u, "establishment_id": r["id"],
                                                        "created_at": self.now} for u, r in zip(user_ids, rows)])
        email, first, last = CAMPAIGN_ARS
        [ars_id] = self.builder._insert(m.User, [self.builder._user_row(
            email, first, last, "ars", password_hash=self.builder.password_hash, ars_code=REGION)])
        self.session.flush()
        for row, user_id in zip(rows, user_ids, strict=True):
            row["hr"] = self._actor(user_id)
            self.hospitals.append(row)
        return self._actor(ars_id)

    # -- a dossier's values
    def _values(self, hospital: dict[str, Any], partner: Partner, candidate: tuple[str, str, str]) -> dict[str, Any]:
        self.counter += 1
        b = self.builder
        last, first, status = candidate
        slug = f"{self.counter}"
        return {
            "hospital_name": hospital["name"], "hospital_type": "Centre hospitalier",
            "hospital_address": hospital["address"], "hospital_postal_code": hospital["postal_code"],
            "hospital_city": hospital["city"].title(), "hospital_finess": hospital["finess"],
            "hospital_siret": _with_luhn_key("26" + hospital["postal_code"][:2] + _digits(b, 9)),
            "hospital_director": f"{b.fake.first_name()} {b.fake.last_name()}",
            "hospital_email": f"affaires.medicales.{hospital['postal_code']}@example.org",
            "partner_name": partner.name, "partner_type": partner.kind, "partner_address": b.fake.street_address(),
            "partner_postal_code": partner.postal_code, "partner_city": partner.city, "partner_finess": "",
            "partner_siret": _with_luhn_key("8" + _digits(b, 12)), "partner_director": partner.director,
            "partner_email": f"contact.partenaire{slug}@example.org",
            "partnership_nature": "Exercice partagé entre les urgences et la structure : consultations non "
                                  "programmées, suivi des patients chroniques sortis d'hospitalisation.",
            "priority_territory": f"Quartier prioritaire de {partner.city}",
            "hospital_service": "Service d'accueil des urgences", "hospital_time_share": 50,
            "hospital_activity": "Deux jours et demi par semaine aux urgences et en médecine polyvalente.",
            "care_activity": "Consultations de médecine générale et coordination des parcours de soins.",
            "care_time_share": 50, "candidate_last_name": last, "candidate_first_name": first,
            "candidate_email": f"candidat{slug}@example.org", "candidate_status": status,
            "candidate_rpps": _with_luhn_key("10" + _digits(b, 8)) if status != "interne" else "",
            "candidate_registration_on": None if status != "interne" else paris_today(self.now) + timedelta(days=60),
        }

    def _file(self, campaign: m.Campaign, hospital: dict[str, Any], partner: Partner, candidate: tuple[str, str, str],
              at: datetime, *, tabs: str = "all", documents: int = 4, confirm: bool = True) -> int:
        """A dossier filed by the hospital's office through the services: tabs, PDFs, then its confirmation."""
        values = self._values(hospital, partner, candidate)

        def tab(cls: type) -> Any:
            return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})

        hr = hospital["hr"]
        dossier_id = dossiers.create_dossier(self.session, actor=hr, campaign_id=campaign.id,
                                             establishment_id=hospital["id"], identification=tab(Identification),
                                             now=at)
        others = (Partnership, HospitalActivity, CareStructure, Candidate) if tabs == "all" else (Partnership,)
        for cls in others:
            dossiers.save_tab(self.session, actor=hr, dossier_id=dossier_id, tab=tab(cls), now=at)
        for document in DEFAULT_DOCUMENTS[:documents]:
            content = text_pdf(document["label"], [f"Candidat : {values['candidate_first_name']} "
                                                   f"{values['candidate_last_name']}", f"Établissement : "
                                                   f"{hospital['name']}", "",
                                                   "Document fictif : données de démonstration de Renfort RH."])
            dossiers.upload_attachment(self.session, actor=hr, dossier_id=dossier_id, kind=document["code"],
                                       filename=f"{document['code']}.pdf", content=content, now=at)
        if confirm:
            dossiers.confirm_dossier(self.session, actor=hr, dossier_id=dossier_id, commitments=tuple(COMMITMENTS),
                                     now=at)
        self.report.dossiers += 1
        return dossier_id

    def _campaign(self, ars: SessionUser, title: str, opened_days_ago: int, closes_in_days: int,
                  project_in_days: int, start_in_days: int) -> m.Campaign:
        today = paris_today(self.now)
        created = self.now - timedelta(days=opened_days_ago + 5)
        campaign_id = ars_side.create_campaign(self.session, actor=ars, now=created, campaign=ars_side.CampaignInput(
            title=title, legal_reference=LEGAL_REFERENCE, description=DESCRIPTION,
            opens_at=today - timedelta(days=opened_days_ago), closes_at=today + timedelta(days=closes_in_days),
            project_confirmation_due=today + timedelta(days=project_in_days),
            start_confirmation_due=today + timedelta(days=start_in_days)))
        ars_side.publish_campaign(self.session, actor=ars, campaign_id=campaign_id, now=created + timedelta(days=1))
        self.report.campaigns += 1
        return self.session.get(m.Campaign, campaign_id)

    def open_campaign(self, ars: SessionUser) -> None:
        campaign = self._campaign(ars, OPEN_TITLE, 20, 40, 150, 210)
        saint_denis, sud, _ = self.hospitals
        at = self.now - timedelta(days=10)
        self._file(campaign, saint_denis, PARTNERS[0], ("Benali", "Yasmine", "jeune_diplome"), at)
        self._file(campaign, saint_denis, PARTNERS[1], ("Lefort", "Thomas", "docteur_junior"), at, confirm=False)
        self._file(campaign, saint_denis, PARTNERS[0], ("Traoré", "Awa", "interne"), at, tabs="identification",
                   documents=2, confirm=False)
        self._file(campaign, sud, PARTNERS[2], ("Moreau", "Julien", "remplacant"), at)

    def past_campaign(self, ars: SessionUser) -> None:
        """Opened 200 days ago, closed 140 days ago, results 120 days ago; the project was due 20 days ago."""
        campaign = self._campaign(ars, PAST_TITLE, 200, -140, -20, 30)
        saint_denis, sud, argenteuil = self.hospitals
        filed = self.now - timedelta(days=170)
        kept = self._file(campaign, saint_denis, PARTNERS[0], ("Garnier", "Lucie", "jeune_diplome"), filed)
        late = self._file(campaign, argenteuil, PARTNERS[3], ("Roussel", "Hugo", "installe"), filed)
        refused = self._file(campaign, sud, PARTNERS[2], ("Petit", "Nadia", "docteur_junior"), filed)
        self._file(campaign, saint_denis, PARTNERS[1], ("Fabre", "Léo", "jeune_diplome"), filed, documents=3,
                   confirm=False)  # incomplete at the closing: non recevable
        jury = self.now - timedelta(days=130)
        followup.run_campaign_jobs(self.session, now=jury)
        for dossier_id, decision, reason in (
                (kept, "favorable", "Projet médical partagé solide, territoire prioritaire, candidat inscrit."),
                (late, "favorable", "Projet cohérent avec le projet régional de santé."),
                (refused, "defavorable", "La structure partenaire n'est pas située en territoire prioritaire.")):
            ars_side.decide(self.session, actor=ars, dossier_id=dossier_id, decision=decision, reason=reason, now=jury)
        ars_side.publish_results(self.session, actor=ars, campaign_id=campaign.id,
                                 now=self.now - timedelta(days=120))
        followup.confirm_project(self.session, actor=saint_denis["hr"], dossier_id=kept, maintained=True,
                                 now=self.now - timedelta(days=25))


def seed_campaigns(builder: Any) -> CampaignSeedReport:
    """Add the demo's application campaigns to a demo being built (last: the other rows and draws stay as they
    were)."""
    seeder = CampaignSeeder(builder)
    ars = seeder.build_accounts()
    seeder.past_campaign(ars)
    seeder.open_campaign(ars)
    return seeder.report
