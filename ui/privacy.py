"""« Données personnelles »: the notice every form that collects personal data shows (GDPR information)."""

from __future__ import annotations

import streamlit as st

_RIGHTS = ("Vous pouvez demander l'accès à vos données, leur rectification ou leur effacement auprès du délégué "
           "à la protection des données du ministère chargé de la santé, et saisir la CNIL.")

NOTICES = {
    "volunteer": (
        "Les informations de ce formulaire sont traitées par le ministère chargé de la santé pour organiser "
        "les renforts en personnels pendant une crise sanitaire. Elles sont visibles par les ARS et, pour "
        "les établissements, seulement votre nom, votre commune, votre profession et vos expériences tant "
        "qu'ils ne vous ont pas contacté(e). Vos coordonnées et vos documents ne leur sont communiqués "
        "qu'une fois que vous êtes contacté(e), proposé(e) ou affecté(e). Le ministère ne reçoit que des "
        "données pseudonymisées. Depuis « Mon profil », vous pouvez à tout moment modifier vos "
        "disponibilités, télécharger toutes vos données ou les supprimer ; sans activité de votre part "
        "pendant une longue période, elles sont anonymisées. " + _RIGHTS
    ),
    "establishment": (
        "Les nom, prénom, adresse électronique et téléphone de la personne qui dépose cette demande, et les "
        "informations de l'établissement, sont traités par le ministère chargé de la santé pour ouvrir le "
        "compte et organiser les renforts. Ils sont vus par l'ARS de la région et le centre de crise "
        "sanitaire ; les volontaires que vous contactez voient le nom de l'établissement et le contact de "
        "la mission. Ils sont conservés tant que le compte est ouvert. " + _RIGHTS
    ),
    "account": (
        "Les nom, prénom, adresse électronique et téléphone saisis ici sont traités par le ministère chargé "
        "de la santé pour ouvrir ce compte et tracer ses actions (journal d'audit, sans donnée personnelle). "
        "Ils sont vus par les administrateurs et les régulateurs qui gèrent le compte. La personne en est "
        "informée par le courriel d'ouverture du compte. " + _RIGHTS
    ),
}


def privacy_notice(kind: str) -> None:
    """The notice of this kind of form, folded under « Données personnelles »."""
    with st.expander("Données personnelles", icon=":material/shield_person:"):
        st.write(NOTICES[kind])
