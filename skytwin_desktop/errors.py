"""Errors the person can act on. Each carries the exit code the CLI ends with and a one-line message."""

from __future__ import annotations


class SkytwinError(Exception):
    """A failure explained in one line; the CLI prints it and exits with `exit_code`, no traceback."""

    exit_code = 1
    summary: str | None = None
    """A few words for a tray line or a menu, where the whole sentence would not fit."""
    passing = False
    """True for trouble of the machine that passes (a busy database, a full disk): the running app
    says so and tries again at its next cycle, rather than stopping."""

    def short(self) -> str:
        return self.summary or str(self)


class ConfigError(SkytwinError):
    """A setting (environment variable) has a value the app cannot use."""

    exit_code = 2


class DataDirError(SkytwinError):
    """The data folder cannot be created or written."""

    exit_code = 3


class StoreError(SkytwinError):
    """The database cannot be opened safely; the file is left exactly as it was."""

    exit_code = 3


class CorruptDatabaseError(StoreError):
    pass


class ForeignDatabaseError(StoreError):
    """An SQLite file that is not a SkyTwin database."""


class DatabaseBusyError(StoreError):
    """Another program held the database past the busy time-out."""

    summary = "the database is busy (another program holds it)"
    passing = True


class DiskFullError(StoreError):
    """The disk holding the database has no room for what had to be saved."""

    summary = "cannot save: the disk is full"
    passing = True


class DatabaseReadOnlyError(StoreError):
    """The database or its folder cannot be written."""

    summary = "cannot save: the data folder is read-only"
    passing = True


class DiskError(StoreError):
    """The disk failed to read or write the database (SQLite's "disk I/O error")."""

    summary = "cannot save: a disk error"
    passing = True


class DatabaseGoneError(StoreError):
    """The database file was deleted or replaced under the running app."""

    summary = "stopped: its database was deleted or replaced"


class DatabaseTooNewError(StoreError):
    """The schema was written by a newer SkyTwin Desktop than this one."""


class InputError(SkytwinError):
    """A command-line argument the app cannot accept."""

    exit_code = 2
