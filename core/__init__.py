"""Renfort RH domain layer: services, rules and commands. Never imports streamlit."""
