"""A local Feishu Open API for exactly the calls the bot makes, with faults that can be switched on.

Run it in-process (`serve()`), or as a program:

    python -m bot.sandbox.openapi --port 0 [--state-file F] [--patch-rate-limit 20]

which prints its URL as the first line of stdout. Point lark-oapi at it with `.domain(url)`.

Feishu's side (shapes as documented; every answer carries a fresh `X-Tt-Logid`):
  POST  /open-apis/auth/v3/tenant_access_token/internal
  PATCH /open-apis/hire/v1/external_interview_assessments/<id>     (strict field-by-field validation)
  POST  /open-apis/hire/v1/external_interview_assessments
  POST  /open-apis/im/v1/messages/<message_id>/reply
  POST  /open-apis/im/v1/messages?receive_id_type=...
  PATCH /open-apis/im/v1/messages/<message_id>
  POST  /open-apis/interactive/v1/card/update
  GET   /open-apis/contact/v3/users/<open_id>
  GET   /open-apis/bot/v3/info

The sandbox's own admin endpoints (not Feishu; JSON in and out, never faulted, never logged as calls):
  GET    /_sandbox/state              {"assessments": {id: assessment}, "throttled": n}
  GET    /_sandbox/messages           {"messages": [...]}, optionally ?chat_id=
  POST   /_sandbox/messages           a user's message {"message_id", "chat_id", "sender", "text"}
  GET    /_sandbox/calls              {"calls": [...]}, optionally ?endpoint=patch
  GET    /_sandbox/faults             {"faults": [...]} still active
  POST   /_sandbox/faults             {"endpoint": "patch", "kind": "error", "count": 3, ...}
  DELETE /_sandbox/faults
  POST   /_sandbox/callback_tokens    {"message_id"} -> {"token": "c-..."}
  POST   /_sandbox/users              {"ou_...": "Name", ...}
  POST   /_sandbox/reset

Faults, from Python (`api.fault(endpoint, kind, **params)`) or over HTTP (POST /_sandbox/faults), target an
endpoint class (token, patch, create, reply, send, message_patch, card_update, contact, bot, other) or a group
(message = reply + send; all). count=None means every request until the faults are cleared.
  latency           seconds=1.0, count=None         sleep, then answer
  error             count=1, code=1002001, status=500, msg=None, html=False (html: a gateway's page, not JSON)
  ratelimit         count=1, reset=1, limit=50, status=429 (400 is the legacy variant): 99991400 + x-ogw-ratelimit-*
  drop              count=1                         close the connection without answering
  apply_then_fail   count=1, then="error"|"drop", code=1002001, status=500: PATCH only; written, then fails
  no_scope          count=None                      99991672 naming the scope the endpoint needs
  invalidate_tokens                                 at once: every tenant token issued so far answers 99991663
`patch_rate_limit=N` also enforces N PATCHes per sliding second (429; counted in `throttled`).

The state file (`state_file=`) mirrors assessments and messages within ~0.1 s of each change and is read back
on start; GET /_sandbox/state is always exact.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bot.sandbox.openapi_app import FakeOpenAPI
from bot.sandbox.openapi_wire import OpenAPIError

__all__ = ["FakeOpenAPI", "OpenAPIError", "RunningOpenAPI", "main", "serve"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class RunningOpenAPI:
    """A FakeOpenAPI served on 127.0.0.1 from a background thread; a context manager."""

    def __init__(self, api: FakeOpenAPI, host: str = "127.0.0.1", port: int = 0, quiet: bool = True):
        self.api = api
        self.server: BaseWSGIServer = make_server(host, port, api.app, threaded=True,
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
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state-file", help="keep assessments and messages in this JSON file")
    parser.add_argument("--patch-rate-limit", type=int, help="refuse PATCHes beyond this many per second (429)")
    parser.add_argument("--app-id", default="cli_sandbox")
    parser.add_argument("--app-secret", default="sandbox-secret")
    parser.add_argument("--no-auto-create", action="store_true", help="PATCH of an unknown id answers 1002002")
    parser.add_argument("--user", action="append", default=[], metavar="OPEN_ID=NAME", help="a contact; repeatable")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    users = dict(item.split("=", 1) for item in args.user if "=" in item)
    api = FakeOpenAPI(app_id=args.app_id, app_secret=args.app_secret, auto_create=not args.no_auto_create,
                      users=users, patch_rate_limit=args.patch_rate_limit, state_file=args.state_file)
    server = make_server(args.host, args.port, api.app, threaded=True,
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
        api.close()
    return 0


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


if __name__ == "__main__":
    sys.exit(main())
