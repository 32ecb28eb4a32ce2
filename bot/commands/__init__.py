"""The chat commands: one unit per command (words, parser, help, handle)."""
