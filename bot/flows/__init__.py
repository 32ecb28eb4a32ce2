"""Request time: from an authenticated payload to a committed outcome and the callback answer."""
