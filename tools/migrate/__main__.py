"""Entry point of `python -m tools.migrate`."""

import sys

from tools.migrate.cli import main

sys.exit(main())
