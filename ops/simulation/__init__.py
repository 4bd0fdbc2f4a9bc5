"""Crisis simulator (issue 17): a 30-day epidemic wave replayed through the real core services, on a database of
its own, under the 2020 rules or ours — `python -m core simulate`. docs/simulation.md gives the model."""
