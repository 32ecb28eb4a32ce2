"""Acknowledgements go first: the job runner gives way to the requests in flight."""

from __future__ import annotations

import threading
import time

from bot.jobs.runner import InFlight


def test_a_background_thread_waits_for_the_requests_in_flight_and_no_other_thread_does():
    in_flight, waited = InFlight(), {}

    def lull(name: str, background: bool) -> None:
        if background:
            in_flight.background()
        started = time.monotonic()
        in_flight.lull(at_most=5.0)
        waited[name] = time.monotonic() - started

    with in_flight.serving():
        threads = [threading.Thread(target=lull, args=(name, name == "runner")) for name in ("runner", "inline")]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join(5)
    assert 0.25 < waited["runner"] < 2.0 and waited["inline"] < 0.1
