"""Sets the scene for the README's screenshots: a Google sandbox, both connectors signed in
through the real flow, then (by SCENE) Gmail's access revoked at "Google", or the twin allowed to
handle small stuff, or Google unreachable after a message was set aside, and the tray app running.

Run by docs/take-screenshots.sh inside a virtual screen; prints READY when the app is up and
stops everything when its standard input closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skytwin_desktop.sandbox import GoogleSandbox  # noqa: E402
from tests.support.app_process import connected_environment  # noqa: E402


def seed_rules(env: dict[str, str]) -> None:
    """A few rules of the person's own, so the Rules tab shows what rules look like."""
    from skytwin_desktop.composition import build_context
    from skytwin_desktop.config import Config
    from skytwin_desktop.store.policy import add_rule

    context = build_context(Config.from_env(env))
    try:
        with context.session() as session:
            add_rule(session, context.user_id, name="No shopping sites", effect="deny",
                     conditions=[{"field": "domain", "operator": "in", "value": ["shopmart.example"]}])
            add_rule(session, context.user_id, name="Colleagues' invites", effect="allow",
                     conditions=[{"field": "kind", "operator": "eq", "value": "accept_invite"},
                                 {"field": "domain", "operator": "eq", "value": "acme.example"}])
            add_rule(session, context.user_id, name="Ask before anything risky", effect="require_approval",
                     conditions=[{"field": "risk", "operator": "gte", "value": "moderate"}])
    finally:
        context.close()


def seed_working(env: dict[str, str]) -> None:
    """The twin at work: it may handle small stuff, and Grace's team are trusted contacts."""
    from skytwin_desktop.composition import build_context
    from skytwin_desktop.config import Config
    from skytwin_desktop.intents import Intents

    context = build_context(Config.from_env(env))
    try:
        intents = Intents(context)
        intents.set_tier("low_autonomy")
        intents.save_setting("trusted_contacts", ["acme.example"])
    finally:
        context.close()


def fresh_environment(sandbox: GoogleSandbox, data_dir: Path) -> dict[str, str]:
    """A first start: the sandbox configured, nothing connected, and a browser that opens nothing
    (so a sign-in waits for the person, as it does when no browser comes up)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, SKYTWIN_DATA_DIR=str(data_dir), SKYTWIN_GOOGLE_API_ROOT=sandbox.url,
                SKYTWIN_GOOGLE_CLIENT_SECRETS=str(sandbox.write_client_secrets(data_dir / "client.json")),
                PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring", BROWSER="true %s")


def main() -> None:
    with GoogleSandbox() as sandbox:
        if os.environ.get("SCENE") == "fresh":
            env = fresh_environment(sandbox, Path(os.environ["SKYTWIN_DATA_DIR"]))
        else:
            env = connected_environment(sandbox, Path(os.environ["SKYTWIN_DATA_DIR"]))
            seed_rules(env)
        if os.environ.get("SCENE") == "working":
            seed_working(env)
        if os.environ.get("SCENE") == "revoked":
            sandbox.revoke_grant("gmail.modify")
            sandbox.expire_access_tokens()
        if os.environ.get("SCENE") == "offline":  # Google unreachable, and one odd message set aside
            odd = sandbox.deliver({"from": "Promo <deals@shop.example>", "subject": "Your weekly deals",
                                   "headers": {"List-Unsubscribe": "<mailto:x@shop.example>"}})
            sandbox.fail_next(f"/gmail/v1/users/me/messages/{odd}", 200,
                              body={"id": odd, "payload": {"headers": [
                                  {"name": "Subject", "value": "Your weekly deals"},
                                  {"name": "From", "value": "Promo <deals@shop.example>"}]}, "labelIds": "INBOX"})
            subprocess.run([sys.executable, "-m", "skytwin_desktop", "poll-once"], env=env, check=False,
                           stdout=subprocess.DEVNULL, timeout=120)
            sandbox.stop()
        if os.environ.get("SCENE_PAUSE"):
            subprocess.run([sys.executable, "-m", "skytwin_desktop", "pause", "--reason", os.environ["SCENE_PAUSE"]],
                           env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)
        app = subprocess.Popen([sys.executable, "-m", "skytwin_desktop"], env=env)
        print("READY", flush=True)
        sys.stdin.read()
        app.terminate()
        app.wait(timeout=10)


if __name__ == "__main__":
    main()
