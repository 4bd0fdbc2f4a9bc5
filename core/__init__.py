"""Renfort RH domain layer, one package per domain over core.shared; never imports streamlit, ui,
pages or ops. `python -m core …` (core/__main__.py) is only the command line's entry point into ops."""
