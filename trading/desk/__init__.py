"""The desk process: composition, the run loop, snapshots, commands and heartbeat."""

from trading.desk.config import DeskConfig, load_desk_config
from trading.desk.desk import Desk
from trading.desk.operators import DeskOperators

__all__ = ["Desk", "DeskConfig", "DeskOperators", "load_desk_config"]
