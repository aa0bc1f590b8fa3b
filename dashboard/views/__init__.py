"""Dashboard views: layout only, each registered as a page by ``dashboard/app.py`` (``st.navigation``)."""
