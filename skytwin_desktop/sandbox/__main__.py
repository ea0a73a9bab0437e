"""`python -m skytwin_desktop.sandbox`: run the Google sandbox in the foreground, so the app (or a
person with curl) can be pointed at it by hand; Ctrl-C stops it."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from skytwin_desktop.sandbox import GoogleSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skytwin_desktop.sandbox",
                                     description="Serve a local Google sandbox (OAuth, Gmail, Calendar).")
    parser.add_argument("--account", default="ada@example.com", help="the sandbox account's address")
    parser.add_argument("--client-secrets", type=Path, default=None,
                        help="where to write the demo client-secrets JSON (default: a new temporary folder)")
    args = parser.parse_args(argv)
    done = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (a background job)
    with GoogleSandbox(account=args.account) as sandbox:
        target = args.client_secrets or Path(tempfile.mkdtemp(prefix="skytwin-sandbox-")) / "client_secrets.json"
        path = sandbox.write_client_secrets(target)
        print(f"Google sandbox for {sandbox.account} at {sandbox.url}")
        print(f"Client secrets: {path}")
        print(f"  SKYTWIN_GOOGLE_API_ROOT={sandbox.url} SKYTWIN_GOOGLE_CLIENT_SECRETS={path}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("Sandbox stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
