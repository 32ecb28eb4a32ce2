"""`python -m benchmarks.hostile [--count N] [--door all|webhook|intake|files|bitable|frames] [--seed S]`."""

import sys

from benchmarks.hostile import main

sys.exit(main())
