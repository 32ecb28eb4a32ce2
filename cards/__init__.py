"""Card builders: pure functions from domain objects to Feishu card JSON 2.0."""
