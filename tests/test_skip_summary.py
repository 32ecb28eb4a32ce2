"""`make test` says why tests were skipped: each reason once, with its count, after the results."""

from __future__ import annotations

pytest_plugins = ("pytester",)


def test_the_summary_counts_each_skip_reason_once(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", [1, 2, 3])
        @pytest.mark.skipif(True, reason="no server here")
        def test_needs_a_server(n):
            pass

        def test_needs_a_tool():
            pytest.skip("the tool is not installed")

        def test_runs():
            pass
    """)
    result = pytester.runpytest("-p", "tests.support.skips")
    result.assert_outcomes(passed=1, skipped=4)
    lines = result.outlines
    start = next(n for n, line in enumerate(lines) if "why tests were skipped" in line)
    assert lines[start + 1:start + 3] == ["3 skipped: no server here", "1 skipped: the tool is not installed"]
