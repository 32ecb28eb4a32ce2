"""The two doors Feishu knocks at: the webhook (HTTP) and the long connection; both hand payloads to bot.flows."""
