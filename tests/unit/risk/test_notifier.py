import json
import logging
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trading.model import AlertRaised, Severity
from trading.risk import CompositeNotifier, LogNotifier, WebhookNotifier

TS = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
def webhook_server():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_notifier_posts_json_to_local_server(webhook_server):
    url, received = webhook_server
    hook = WebhookNotifier(url, account="acct-1")
    try:
        hook.notify(
            AlertRaised(ts=TS, severity=Severity.CRITICAL, message="flattened", rule="daily_realized_loss")
        )
        hook.notify(AlertRaised(ts=TS, severity=Severity.INFO, message="below min severity", rule="x"))
        assert hook.flush(5.0)
    finally:
        hook.close()
    assert received == [
        {
            "ts": TS.isoformat(),
            "severity": "CRITICAL",
            "rule": "daily_realized_loss",
            "message": "flattened",
            "account": "acct-1",
        }
    ]
    assert hook.statistics().sent == 1


def test_webhook_notifier_unreachable_url_counts_failure_and_logs(caplog):
    hook = WebhookNotifier("http://127.0.0.1:9/none", timeout_s=0.5)
    try:
        with caplog.at_level(logging.WARNING, logger="trading.risk.notifier"):
            hook.notify(AlertRaised(ts=TS, severity=Severity.WARNING, message="m", rule="r"))
            assert hook.flush(5.0)
    finally:
        hook.close()
    assert hook.statistics().failed == 1
    assert "webhook http://127.0.0.1:9/none failed for alert 'm'" in caplog.text


def test_webhook_notifier_rejects_non_http_url():
    with pytest.raises(ValueError, match="webhook url must start with http:// or https://, got 'ftp://x'"):
        WebhookNotifier("ftp://x")


def test_log_notifier_logs_critical_as_error(caplog):
    notifier = CompositeNotifier([LogNotifier()])
    with caplog.at_level(logging.INFO, logger="trading.risk.notifier"):
        notifier.notify(AlertRaised(ts=TS, severity=Severity.CRITICAL, message="flat", rule="daily"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "ALERT [CRITICAL] daily: flat")
    ]
