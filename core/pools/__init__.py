"""Territorial pools (issue 14, DESIGN §9): the « plateformes territoriales solidaires » of medico-social
establishments — the ARS's follow-up of each funded project, member establishments, the coordinator's roster
of consenting volunteers and its pushes to member missions. May import core.shared, core.places, core.mail,
core.staffing, core.figures (the spreadsheet writer of its export), core.volunteers (the registration with a
pool's code wraps its service) and db — none of which imports core.pools."""
