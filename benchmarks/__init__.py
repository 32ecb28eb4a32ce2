"""Development tools, not installed: the benchmark (`python -m benchmarks`), the crash test (`-m benchmarks.crash`)."""
