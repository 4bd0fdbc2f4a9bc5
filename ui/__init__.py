"""Streamlit helpers shared by app.py and the page modules (the only UI code outside pages/)."""
