"""SkyTwin Desktop: a system-tray companion that acts on a person's Gmail and Calendar safely."""

import logging

__version__ = "0.1.0"

# Until the log file is set up, our messages go nowhere rather than to stderr: the CLI speaks
# to the person in one line of its own.
logging.getLogger(__name__).addHandler(logging.NullHandler())
