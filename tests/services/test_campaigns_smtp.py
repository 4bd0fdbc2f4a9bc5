"""Application campaigns' e-mails through a real SMTP server on loopback (tests/smtp.py), on both engines: the
acknowledgement of a confirmed dossier names the partner structure and the candidate; the results reach both
partners of each decided dossier."""

from __future__ import annotations

from datetime import timedelta

from core.campaigns import campaigns, dossiers, fields
from core.mail.outbox import links_in, send_pending
from core.shared.actor import to_session_user
from tests.factories import (
    CAMPAIGN_CLOSES,
    NOW,
    campaign_pdf,
    complete_values,
    make_campaign,
    make_dossier,
    make_establishment,
    make_user,
)
from tests.smtp import BASE_URL

AFTER_CLOSING = CAMPAIGN_CLOSES + timedelta(minutes=1)


def _text(message) -> str:  # noqa: ANN001
    return message.get_body(preferencelist=("plain",)).get_content()


def test_the_establishment_receives_the_acknowledgement_naming_the_partner_and_the_candidate(uow, db_url,
                                                                                            smtp_server) -> None:
    with uow() as session:
        hospital = make_establishment(session, postal_code="75013")
        hr = to_session_user(session, user=make_user(session, establishment=hospital, email="bam@ch-test.fr"))
        campaign = make_campaign(session)
        values = complete_values(1)
        tab = fields.Identification(**{k: v for k, v in values.items()
                                       if k in fields.Identification.__dataclass_fields__})
        dossier_id = dossiers.create_dossier(session, actor=hr, campaign_id=campaign.id, establishment_id=hospital.id,
                                             identification=tab, now=NOW)
        for cls in (fields.Partnership, fields.HospitalActivity, fields.CareStructure, fields.Candidate):
            dossiers.save_tab(session, actor=hr, dossier_id=dossier_id, now=NOW,
                              tab=cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__}))
        for document in campaign.required_documents:
            dossiers.upload_attachment(session, actor=hr, dossier_id=dossier_id, kind=document["code"],
                                       filename="piece.pdf", content=campaign_pdf(), now=NOW)
        dossiers.confirm_dossier(session, actor=hr, dossier_id=dossier_id, commitments=tuple(fields.COMMITMENTS),
                                 now=NOW)

    report = send_pending(db_url, now=NOW)

    assert (report.sent, report.failed) == (2, 0)
    assert sorted(str(message["To"]) for message in smtp_server.messages) == [values["hospital_email"],
                                                                              "bam@ch-test.fr"]
    message = smtp_server.messages[0]
    assert message["Subject"] == ("Renfort RH — accusé de réception de votre dossier de candidature "
                                  "(400 postes de médecins généralistes — test)")
    text = _text(message)
    assert "Structure de soins partenaire : Maison de santé test 1" in text
    assert "Candidat pressenti : Camille Candidat1" in text
    assert "jusqu'à la clôture, le 03/12/2026 à 10:00" in text
    assert links_in(text) == [f"{BASE_URL}/appels-a-candidatures"]


def test_the_results_reach_both_partners_of_each_decided_dossier(uow, db_url, smtp_server) -> None:
    with uow() as session:
        ars_user = make_user(session, "ars", ars_code="11")
        ars = to_session_user(session, user=ars_user)
        campaign = make_campaign(session, created_by=ars_user)
        favourable = make_dossier(session, campaign, make_establishment(session, postal_code="75013"),
                                  state="confirme", confirmed_at=NOW)
        refused = make_dossier(session, campaign, make_establishment(session, postal_code="93200"),
                               state="confirme", confirmed_at=NOW)
        make_dossier(session, campaign, make_establishment(session, postal_code="94000"))  # non recevable: no mail
        campaigns.decide(session, actor=ars, dossier_id=favourable.id, decision="favorable", reason="Projet solide.",
                         now=AFTER_CLOSING)
        campaigns.decide(session, actor=ars, dossier_id=refused.id, decision="defavorable", reason="Hors territoire.",
                         now=AFTER_CLOSING)
        campaigns.publish_results(session, actor=ars, campaign_id=campaign.id, now=AFTER_CLOSING)
        addresses = {favourable.hospital_email: "recruteur", favourable.partner_email: "partenaire",
                     refused.hospital_email: "recruteur", refused.partner_email: "partenaire"}

    report = send_pending(db_url, now=AFTER_CLOSING)

    assert (report.sent, report.failed) == (4, 0)
    received = {str(message["To"]): message for message in smtp_server.messages}
    assert set(received) == set(addresses)
    for address, side in addresses.items():
        text = _text(received[address])
        assert received[address]["Subject"] == ("Renfort RH — résultats de l'appel à candidatures « 400 postes de "
                                                "médecins généralistes — test »")
        assert ("onglet « Décision »" in text) == (side == "recruteur")
        assert "Hors territoire" not in text and "Projet solide" not in text  # the motivation stays on the platform
    assert "Avis : Favorable" in _text(received[favourable.partner_email])
    assert "confirmera le maintien du projet au plus tard le 22/01/2027" in _text(received[favourable.hospital_email])
    assert "Avis : Défavorable" in _text(received[refused.hospital_email])
