"""Volunteers: registration, profile, availability, documents, personal-data lifecycle.
May import core.shared, core.places, core.mail, core.staffing and db."""
