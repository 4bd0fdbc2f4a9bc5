"""Figures: regulators' indicators, public statistics and Excel exports. May import core.shared,
core.places, core.staffing and db."""
