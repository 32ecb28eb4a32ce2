"""A local Feishu Open API for exactly the calls the bot makes, with faults that can be switched on (README.md)."""

from bot.sandbox.openapi.backend import FakeOpenAPI
from bot.sandbox.openapi.server import RunningOpenAPI, main, serve
from bot.sandbox.openapi.wire import OpenAPIError

__all__ = ["FakeOpenAPI", "OpenAPIError", "RunningOpenAPI", "main", "serve"]
