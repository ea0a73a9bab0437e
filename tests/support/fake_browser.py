"""A stand-in for the person's browser, for BROWSER="python fake_browser.py %s".

webbrowser waits for a BROWSER command to exit, while the sign-in flow only starts answering
the redirect after that; so this returns at once and follows the link from a detached child,
as a person clicking "Allow" would. It writes the final page to FAKE_BROWSER_LOG when set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request


def visit(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            page = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        page = f"HTTP {exc.code}"
    except OSError as exc:
        page = f"failed: {exc}"
    if os.environ.get("FAKE_BROWSER_LOG"):
        with open(os.environ["FAKE_BROWSER_LOG"], "a", encoding="utf-8") as log:
            log.write(page + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--visit":
        visit(sys.argv[2])
    else:
        subprocess.Popen([sys.executable, __file__, "--visit", sys.argv[1]], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
