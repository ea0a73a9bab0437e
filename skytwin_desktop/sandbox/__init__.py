"""A local Google (OAuth, Gmail, Calendar) for integration tests and `skytwin-desktop --demo`:
the real client libraries talk to it unchanged once Google's hosts are swapped for its URL."""

from skytwin_desktop.sandbox.server import GoogleSandbox

__all__ = ["GoogleSandbox"]
