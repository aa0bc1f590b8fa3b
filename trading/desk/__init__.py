"""The desk process: composition, the run loop, snapshots, commands and heartbeat."""

from trading.desk.config import DeskConfig, load_desk_config
from trading.desk.desk import Desk

__all__ = ["Desk", "DeskConfig", "load_desk_config"]
