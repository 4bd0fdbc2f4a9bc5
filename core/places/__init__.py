"""Reference data (ARS, departments, professions, postal codes) and geography (postal code → commune point).
May import core.shared and db."""
