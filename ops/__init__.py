"""Tooling behind `python -m core …`: command line, migrations runner, seeds, benchmark and load test,
worker loop, server launcher, AppTest driver. May import anything; nothing imports ops (tests aside)."""
