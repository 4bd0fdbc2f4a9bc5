"""The base of the domain: errors, clock, settings, acting user, permissions, audit, security, SQL helpers,
input validation and distances. Imports nothing from core but core.shared, and from db only its models."""
