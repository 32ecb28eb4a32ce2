"""Helpers shared by tests: nothing here is a test, and no test module imports another."""
