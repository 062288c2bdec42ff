"""`python -m hub`: the command line."""

from hub.cli import main

raise SystemExit(main())
