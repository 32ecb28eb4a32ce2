"""Serve the sandbox Open API: in this process (`serve()`), or as a program (`python -m bot.sandbox.openapi`)."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bot.sandbox.openapi.app import make_app
from bot.sandbox.openapi.backend import FakeOpenAPI

DESCRIPTION = "A local Feishu Open API for exactly the calls the bot makes, with faults that can be switched on."


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class RunningOpenAPI:
    """A FakeOpenAPI served on 127.0.0.1 from a background thread; a context manager."""

    def __init__(self, api: FakeOpenAPI, host: str = "127.0.0.1", port: int = 0, quiet: bool = True):
        self.api = api
        self.server: BaseWSGIServer = make_server(host, port, make_app(api), threaded=True,
                                                  request_handler=_QuietHandler if quiet else None)
        self.url = f"http://{host}:{self.server.port}"
        # a short poll interval so stop() returns at once (the default half second adds up over a test suite)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="sandbox-openapi", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and write the state file."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
        self.api.close()

    def __enter__(self) -> RunningOpenAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(port: int = 0, *, host: str = "127.0.0.1", api: FakeOpenAPI | None = None,
          **options: object) -> RunningOpenAPI:
    """Start the sandbox Open API in this process (options go to FakeOpenAPI)."""
    return RunningOpenAPI(api or FakeOpenAPI(**options), host, port)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """The command line: serve until Ctrl-C or SIGTERM; the URL is the first line printed."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.openapi", description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state-file", help="keep assessments and messages in this JSON file")
    parser.add_argument("--patch-rate-limit", type=int, help="refuse PATCHes beyond this many per second (429)")
    parser.add_argument("--app-id", default="cli_sandbox")
    parser.add_argument("--app-secret", default="sandbox-secret")
    parser.add_argument("--no-auto-create", action="store_true", help="PATCH of an unknown id answers 1002002")
    parser.add_argument("--user", action="append", default=[], metavar="OPEN_ID=NAME", help="a contact; repeatable")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument("--longconn", action="store_true", help="also serve Feishu's long connection "
                        "(POST /callback/ws/endpoint, then frames over a WebSocket); push with POST /_sandbox/longconn")
    args = parser.parse_args(argv)
    users = dict(item.split("=", 1) for item in args.user if "=" in item)
    gateway = None
    if args.longconn:
        from bot.sandbox.openapi.longconn import LongConnServer

        gateway = LongConnServer(app_id=args.app_id, app_secret=args.app_secret, host=args.host).start(http=False)
    api = FakeOpenAPI(app_id=args.app_id, app_secret=args.app_secret, auto_create=not args.no_auto_create,
                      users=users, patch_rate_limit=args.patch_rate_limit, state_file=args.state_file,
                      longconn=gateway)
    server = make_server(args.host, args.port, make_app(api), threaded=True,
                         request_handler=_QuietHandler if args.quiet else None)
    print(f"http://{args.host}:{server.port}", flush=True)
    if not _loopback(args.host):
        print("warning: the sandbox has no security; serve it on 127.0.0.1 only", file=sys.stderr)
    print(f"app_id={args.app_id} app_secret={args.app_secret}; admin: GET /_sandbox/state, /_sandbox/messages",
          file=sys.stderr, flush=True)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # a shell starting us in the background may have set SIGINT to be ignored
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if gateway is not None:
            gateway.stop()
        api.close()
    return 0


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

