"""The chat commands: one unit per command (words, parser, help, handle), registered when imported.

Adding a command is adding a module here and its name to the import below.
"""

# Importing registers them; /help lists the typed commands in this order.
from bot.commands import assess, todo, history, assign, upload, panel, help, form, reminder, whoami  # noqa: F401, I001
