"""Lets `python -m skytwin_desktop` behave exactly like the `skytwin-desktop` command."""

from skytwin_desktop.cli import main

raise SystemExit(main())
