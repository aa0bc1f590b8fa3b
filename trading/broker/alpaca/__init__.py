"""Alpaca (alpaca-py) behind the ``Broker`` protocol: ``broker: {kind: alpaca, paper: true}``.

Only what is Alpaca's lives here: ``AlpacaClient`` (REST through ``TradingClient``),
``AlpacaStream`` (``trade_updates`` through ``TradingStream``), ``wire`` (Alpaca's JSON as
venue facts), ``AlpacaSettings`` and the registry's factory. Books, events, journal,
reconciliation, guard, flatten and blindness are the shared ``trading.broker.venue``.
Marks (unrealized P&L) come from the polled positions' ``current_price``.
"""

from trading.broker.alpaca.config import KEY_ID_VARIABLE, SECRET_KEY_VARIABLE, AlpacaSettings

__all__ = ["KEY_ID_VARIABLE", "SECRET_KEY_VARIABLE", "AlpacaSettings"]
