"""A live trading risk desk: paper broker, risk engine, strategy executor and state store."""
