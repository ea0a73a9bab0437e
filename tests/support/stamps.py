"""The shape of the timestamps the app shows in JSON."""

from __future__ import annotations

import re

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
