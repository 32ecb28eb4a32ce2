"""The chat commands: one unit per command (words, parser, help, handle), registered when imported.

Adding a command is adding a module here and its name to the import below.
"""

from bot.commands import assess, form, help, history, reminder, todo  # noqa: F401  (registers them, in help's order)
