"""The Streamlit dashboard: ``data`` (read-only loaders), ``charts`` (pure figures), ``pages`` (layout)."""
