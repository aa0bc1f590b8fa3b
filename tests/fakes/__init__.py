"""Local stand-ins for outside services, driven by tests (no network beyond 127.0.0.1)."""
