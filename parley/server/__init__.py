"""The HTTP server: channels, HTTP API, web chat, health and metrics around an Agent."""

from parley.server.app import ParleyServer, create_app
from parley.server.config import ServerConfig, ServerConfigError
from parley.server.runtime import AgentHolder

__all__ = ["AgentHolder", "ParleyServer", "ServerConfig", "ServerConfigError", "create_app"]
