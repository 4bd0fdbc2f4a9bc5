"""Accounts: sign-in with lockout, establishment account requests and their validation, single-use links.
May import core.shared, core.places, core.mail, core.staffing (a request files its first needs) and db."""
