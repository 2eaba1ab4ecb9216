"""`python -m pilotdid …`: the command line without the console script (e.g. on Windows or without activating .venv)."""

import sys

from pilotdid.cli import main

if __name__ == "__main__":
    sys.exit(main())
