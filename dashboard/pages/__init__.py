"""Dashboard pages: layout only, started from ``dashboard/app.py``."""
