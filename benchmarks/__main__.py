"""`python -m benchmarks [--quick]`: run the scenarios, print the table and write it to BENCHMARKS.md."""

import sys

from benchmarks.scenarios import main

sys.exit(main())
