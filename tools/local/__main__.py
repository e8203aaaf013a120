"""`python -m tools.local`: start the local environment in the foreground."""

import logging
import os
import sys

from tools.local.cli import main

status = main()
# By now every server, worker and file of the environment is closed, and the journal
# is on disk. os._exit skips the interpreter's teardown of moto's thousands of
# objects, which takes about 0.3 s, so a stop returns at once.
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
