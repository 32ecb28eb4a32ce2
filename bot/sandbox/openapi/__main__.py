"""`python -m bot.sandbox.openapi`: serve until Ctrl-C or SIGTERM; the URL is the first line printed."""

import sys

from bot.sandbox.openapi.server import main

sys.exit(main())
