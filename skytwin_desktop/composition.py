"""The composition root: the one place that builds the store, logging, connectors and twin from a
`Config` behind the application façade (`Intents`), and, for the tray, the GUI, the scheduler
and the local socket around that same façade."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from skytwin_desktop import words
from skytwin_desktop.clock import Clock, utc_now
from skytwin_desktop.config import Config
from skytwin_desktop.connectors.endpoints import GoogleEndpoints
from skytwin_desktop.connectors.oauth import ClientSecrets, SignInCancelled, allow_loopback_http
from skytwin_desktop.connectors.secrets import TokenStore
from skytwin_desktop.connectors.service import ConnectorService
from skytwin_desktop.domain import Connector
from skytwin_desktop.errors import DatabaseGoneError, SkytwinError
from skytwin_desktop.instance import InstanceLock
from skytwin_desktop.intents import AppContext, Intents
from skytwin_desktop.logs import configure_logging
from skytwin_desktop.paths import ensure_data_dir
from skytwin_desktop.policy import PolicyEvaluator
from skytwin_desktop.store.database import Sessions
from skytwin_desktop.store.migrate import open_and_migrate
from skytwin_desktop.store.users import ensure_local_user, local_user_id
from skytwin_desktop.twin.gate import PolicyGate
from skytwin_desktop.twin.pipeline import Twin
from skytwin_desktop.twin.steps import Actions

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from skytwin_desktop.door import Serve
    from skytwin_desktop.ui.approvals_window import ApprovalsWindow
    from skytwin_desktop.ui.settings_window import SettingsWindow
    from skytwin_desktop.ui.tray import TrayController

log = logging.getLogger(__name__)


def build_context(config: Config, clock: Clock = utc_now, keyring_backend: KeyringBackend | None = None) -> AppContext:
    """Prepare the data folder, logging and database (migrating it), the local person, and the
    parts that act on them. Nothing here touches the network or the keyring yet."""
    ensure_data_dir(config.data_dir)
    log_path = configure_logging(config.log_dir, config.log_level)
    migration = open_and_migrate(config.database_path, config.backup_dir)
    sessions = Sessions(migration.engine)
    with sessions.read() as session:  # a plain read when the person exists: no wait behind a writer
        user_id = local_user_id(session)
    if user_id is None:
        with sessions.write() as session:
            user_id = ensure_local_user(session, timezone=local_timezone_name()).id
    log.info("Started with data folder %s (schema %s)", config.data_dir, migration.to_revision)
    allow_loopback_http(config.google_api_root)
    endpoints = GoogleEndpoints.for_root(config.google_api_root)
    connectors = ConnectorService(
        sessions, user_id, endpoints,
        client=lambda: ClientSecrets.load(config.google_client_secrets),
        tokens=TokenStore(keyring_backend), clock=clock, interval=timedelta(seconds=config.poll_interval),
    )
    gate = PolicyGate(PolicyEvaluator(operator_paused=config.auto_execute_disabled))
    return AppContext(
        config=config,
        engine=migration.engine,
        sessions=sessions,
        user_id=user_id,
        clock=clock,
        log_path=log_path,
        migration=migration,
        gate=gate,
        connectors=connectors,
        twin=Twin(sessions, user_id, gate, Actions(connectors, endpoints), clock, stopping=connectors.stopping),
    )


def open_app(config: Config, *, demo: bool = False, clock: Clock = utc_now) -> Intents:
    """The app behind its one door. `demo`: against the built-in Google sandbox (no account)."""
    if not demo:
        return Intents(build_context(config, clock=clock))
    from skytwin_desktop.demo import Demo  # the sandbox loads only for --demo

    sandbox = Demo(config)
    try:
        app = Intents(build_context(sandbox.config, clock=clock, keyring_backend=sandbox.keyring),
                      on_close=sandbox.close)
        app.demo = True
        return app
    except BaseException:
        sandbox.close()
        raise


def attach_tray(qt: QApplication, tray: QSystemTrayIcon, app: Intents, lock: InstanceLock, door_path: Path,
                serve: Serve, *, demo: bool = False) -> SimpleNamespace:
    """The tray app around the façade, on the icon `boot` already shows: windows, notifications,
    the background scheduler, and the local socket through which commands reach this running app.
    On the GUI thread, with the event loop running; what it starts stops when `qt` quits. Returns
    the parts it made, which the caller keeps for as long as the app runs (Qt objects without a
    Python reference are deleted)."""
    from PySide6.QtCore import QFileSystemWatcher, QLocale, QObject, Qt, QTime, QUrl, Signal, qVersion
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from skytwin_desktop.diagnostics import DesktopFacts, collect
    from skytwin_desktop.door import SocketDoor
    from skytwin_desktop.heap import settle_after_startup
    from skytwin_desktop.scheduler import PollScheduler
    from skytwin_desktop.ui.background import Background
    from skytwin_desktop.ui.notify import DBusNotifier
    from skytwin_desktop.ui.state import TrayIcon
    from skytwin_desktop.ui.tray import TrayController, icon_for
    from skytwin_desktop.wake import LogindWatch

    class Bridge(QObject):
        """Carries background news to the GUI thread (always queued)."""

        changed = Signal(object)  # a Change from the façade
        failed = Signal(object)  # a SkytwinError: the app itself cannot go on (its database)
        trouble = Signal(object)  # a passing SkytwinError of a poll cycle (a full disk), or None once gone
        notification_action = Signal(str, str)  # action key, tag

    qt.setWindowIcon(icon_for(TrayIcon.LISTENING))
    locale = QLocale.system()  # times of day as the person's locale writes them (12- or 24-hour)
    words.use_clock_format(lambda moment: locale.toString(QTime(moment.hour, moment.minute),
                                                          QLocale.FormatType.ShortFormat))
    bridge = Bridge()
    background = Background()

    def in_background(name: str, work: Callable[[], object]) -> None:
        """Network work (sign-in, revoke) off the GUI thread; a failure comes back in words."""
        background.run(name, lambda: str(work() or ""), lambda _result: None, failed=controller.background_failed)

    def sign_in(connector: Connector) -> None:
        try:
            app.connect(connector)
        except SignInCancelled:
            log.info("%s sign-in cancelled", connector.display_name)  # the person's own choice: no warning

    def connector_action(connector: Connector, verb: str) -> None:
        if verb == "disconnect":
            in_background(f"disconnect-{connector.value}", lambda: app.disconnect(connector))
        elif verb == "cancel":
            app.cancel_sign_in(connector)
        else:
            in_background(f"sign-in-{connector.value}", lambda: sign_in(connector))

    paths = app.paths
    app.desktop = DesktopFacts(qt.platformName(), qVersion(), QSystemTrayIcon.isSystemTrayAvailable())

    def settings_window() -> SettingsWindow:
        """Built when the person first opens it."""
        from skytwin_desktop.ui.settings_window import SettingsWindow

        settings = SettingsWindow(app.save_setting, paths, rules=app, login=LoginEntry())
        settings.connector_action.connect(connector_action)
        settings.delete_all_requested.connect(
            lambda: in_background("delete-all", lambda: log.info("Deleted all data: %s", app.delete_all())))
        settings.open_log_folder.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir))))
        settings.show_settings(app.settings())

        def copied(text: str) -> None:
            QApplication.clipboard().setText(text)
            settings.diagnostics_done("Copied: paste it into your bug report (sign-ins and addresses are left out).")

        settings.copy_diagnostics_requested.connect(lambda: background.run(
            "diagnostics", lambda: collect(app, app.desktop, demo=demo).to_text(), copied,
            failed=lambda message: settings.diagnostics_done(f"Could not gather them: {message}")))
        return settings

    def approvals_window() -> ApprovalsWindow:
        from skytwin_desktop.ui.approvals_window import ApprovalsWindow

        return ApprovalsWindow(app)

    notifier = DBusNotifier.connect(on_action=bridge.notification_action.emit, on_closed=lambda tag: None)
    controller = TrayController(app.report, set_pause=app.set_pause, connector_action=connector_action,
                                notifier=notifier, settings=settings_window, approvals=approvals_window, tray=tray)
    controller.window.offer_demo = not demo
    if demo:
        controller.demo = True
        controller.window.setWindowTitle("SkyTwin Desktop — demo (a pretend Google account)")
        controller.refresh()
    bridge.changed.connect(controller.changed, Qt.ConnectionType.QueuedConnection)
    bridge.failed.connect(controller.failed, Qt.ConnectionType.QueuedConnection)
    bridge.notification_action.connect(controller.notification_action, Qt.ConnectionType.QueuedConnection)
    app.subscribe(bridge.changed.emit)
    door = SocketDoor(door_path, serve, show=controller.open_status_window)
    door.listen()
    bridge.trouble.connect(controller.troubled, Qt.ConnectionType.QueuedConnection)
    scheduler = PollScheduler(app, app.poll_interval, on_failure=bridge.failed.emit, on_trouble=bridge.trouble.emit,
                              api_root=app.context.config.google_api_root)
    controller.stop_acting = scheduler.shutdown
    app.subscribe(lambda change: scheduler.sync() if change.what in SIGN_IN_CHANGES else None)

    def check_database(_path: str) -> None:
        """The file changed on disk: is it still ours? (SQLite writes it too; that is cheap to tell.)"""
        try:
            app.check_store()
        except DatabaseGoneError as exc:
            controller.failed(exc)
        except SkytwinError:
            pass  # busy: the next refresh says so

    watcher = QFileSystemWatcher([str(paths.database)])
    watcher.fileChanged.connect(check_database)

    def restart(*extra: str, environ: dict[str, str] | None = None) -> None:
        """Start afresh in this same process (the data folder is checked again as at any start)."""
        log.info("Restarting%s", f" with {' '.join(extra)}" if extra else "")
        if wake_watch is not None:
            wake_watch.stop()
        scheduler.shutdown()
        door.close()
        controller.shutdown()
        lock.release()
        app.close()
        program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "skytwin_desktop"]
        os.execve(sys.executable, [*program, *extra, *sys.argv[1:]], os.environ if environ is None else environ)

    def try_demo() -> None:
        """The demo in a throwaway folder, whatever SKYTWIN_DATA_DIR says: never in the person's data."""
        restart("--demo", environ={k: v for k, v in os.environ.items() if k != "SKYTWIN_DATA_DIR"})

    controller.restart = restart
    controller.try_demo = try_demo
    controller.place()
    if not demo:
        controller.welcome()
        offer_launcher_once(controller, paths.data_dir / LAUNCHER_OFFERED)
    scheduler.start()
    wake_watch = LogindWatch.start(on_wake=scheduler.woke)  # None without logind: the clock check stands in
    if wake_watch is not None:
        qt.aboutToQuit.connect(wake_watch.stop)
    qt.aboutToQuit.connect(door.close)
    qt.aboutToQuit.connect(scheduler.shutdown)
    qt.aboutToQuit.connect(controller.shutdown)
    qt.aboutToQuit.connect(lock.release)
    settle_after_startup()
    log.info("Tray started (%s)", "system tray" if QSystemTrayIcon.isSystemTrayAvailable() else "no tray: window")
    return SimpleNamespace(bridge=bridge, background=background, controller=controller, door=door,
                           scheduler=scheduler, watcher=watcher, wake_watch=wake_watch)


SIGN_IN_CHANGES = frozenset({"connector", "everything", "poll"})
"""Changes after which the set of connected services may differ (a poll can find a revocation)."""
LAUNCHER_OFFERED = ".launcher-offered"
"""In the data folder once the app-menu entry was offered: it is offered once, not at every start."""


def offer_launcher_once(controller: TrayController, marker: Path) -> None:
    from skytwin_desktop.desktop_entry import desktop_entry_installed, install_desktop_entry, is_xdg

    if not is_xdg() or marker.exists() or desktop_entry_installed():
        return

    def add() -> None:
        """A few small files (no network): done here, so the window says what really happened."""
        try:
            log.info("App-menu entry written: %s", install_desktop_entry())
        except SkytwinError as exc:
            controller.window.launcher_added(f"Could not add it: {exc}")
            controller.background_failed(str(exc))
        else:
            controller.window.launcher_added("SkyTwin is in your app menu now.")

    controller.add_launcher = add
    if controller.offer_launcher():
        try:
            marker.touch()
        except OSError as exc:
            log.warning("Could not note that the app-menu entry was offered (%s)", exc)


class LoginEntry:
    """Start at login, as the settings window sees it: the platform's own entry, read back each time."""

    def enabled(self) -> bool:
        from skytwin_desktop.autostart import autostart_enabled

        return autostart_enabled()

    def set(self, enabled: bool) -> object:
        from skytwin_desktop.autostart import set_autostart

        return set_autostart(enabled)


def local_timezone_name() -> str:
    """The machine's IANA zone as a starting value for the person's own (they can change it)."""
    try:
        name = tzlocal.get_localzone_name()
        if name:
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError, OSError, LookupError) as exc:
        log.warning("Could not tell the local timezone (%s); using UTC", exc)
    return "UTC"
