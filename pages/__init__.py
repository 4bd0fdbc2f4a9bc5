"""Page modules. Each exposes render() and has no top-level side effects: Streamlit's legacy
discovery also scans this folder, and a module that rendered on import could be opened by URL
by a signed-out visitor (see ../shared/STACK-NOTES.md)."""
