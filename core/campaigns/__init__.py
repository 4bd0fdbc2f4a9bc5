"""Application campaigns for funded posts (issue 15, DESIGN §9; the ARS Île-de-France's online procedure for the
measure « 400 postes de médecins généralistes dans les territoires prioritaires »): an ARS opens a call, the
recruiting establishments of its region file one dossier per candidate, a jury decides, the results are published
and the selected projects are followed up.

The rules, enforced by the services (the pages only draw what they return):

- Campaigns (core.campaigns.campaigns). An ARS creates and edits campaigns for its own region only: title, legal
  reference, description, opening and closing instants, the date by which a selected dossier confirms that its
  project is maintained and the later one by which it confirms the doctor's start, the mandatory documents (by
  default: CV, lettre de motivation, lettre d'engagement sur le projet ville/hôpital, attestation d'inscription à
  l'Ordre) and which fields of the five fixed tabs are mandatory (core.campaigns.fields; both partners' names and
  e-mails and the candidate's name always are). A campaign is drafted, then published to its region's
  establishments (brouillon → publiee); its lists of mandatory fields and documents are fixed from then on. It is
  *open* from its opening to its closing instant.
- Dossiers (core.campaigns.dossiers). An establishment account (a 9-digit FINESS of the campaign's region) files, in
  an open campaign, one dossier per candidate: the Identification tab first (it creates the dossier), then the
  other tabs in any order, each saved on its own; then its PDFs (PDF only, recognised by their content, 5 Mo at
  most, no active content: core.volunteers.documents.check_pdf), one per kind of document, replaceable and
  deletable. A dossier is « Incomplet » until every mandatory field and document is there, then « Complet (à
  confirmer) »; confirming it (every commitment ticked) is refused while it is incomplete and sends an
  acknowledgement e-mail naming the partner structure and the candidate. Any later change (a tab, a PDF) takes it
  back to Incomplet/Complet until it is confirmed again. The establishment ranks its dossiers by priority and may
  delete one. From the closing instant nothing can change, and every dossier not confirmed is « non recevable »:
  it never reaches the jury (the worker records that state; reads apply it at once).
- The jury (core.campaigns.campaigns). Only the ARS of the campaign's region decides, after the closing instant
  and on confirmed dossiers only: Favorable or Défavorable, with a motivation (required); it may change a decision
  until it publishes the results, which requires every confirmed dossier decided, e-mails both partners of each
  decided dossier, and freezes the decisions. An establishment sees no decision before that publication.
- Follow-up (core.campaigns.followup). A favourable dossier confirms by the campaign's first date that the project
  is maintained (or given up), then by the second that the doctor has started (and when). The worker e-mails a
  reminder REMINDER_DAYS before each date to dossiers that have not answered; the ARS sees who has not confirmed.
- Who reads what. A dossier and its PDFs: only the accounts of the owning establishment and the ARS of the
  campaign's region — not the CCS, the ministry or an admin: they hold a candidate's identity and file, which
  only the regional procedure needs. The national roles (CCS, ministry, admins) list the published campaigns with
  their counts only. Only the owning establishment edits its dossiers. Every change, every decision and every
  download of a PDF writes an audit Event.
- Retention (core.campaigns.retention): `python -m core purge --before DATE` also deletes the dossiers (and their
  PDFs) of the campaigns whose last date — the doctor's start confirmation date — is before DATE.
"""
