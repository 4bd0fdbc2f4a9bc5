"""Missions, matching, the proposal state machine, regulation by the ARS and the CCS, crisis mode and the
periodic jobs. May import core.shared, core.places, core.mail and db."""
