"""Copy, verify and restore-drill tools for PFMON's DynamoDB tables.

    python -m tools.migrate copy --source-env test --target-env prod
    python -m tools.migrate verify --source-env test --target-env prod
    python -m tools.migrate drill --env prod --table JournalEntries --latest

The table definitions come from `pfmon_api.tables` under `functions/`, the same module
the Pulumi program deploys from, so that directory is put on the import path here.
"""

import sys
from pathlib import Path

_FUNCTIONS_DIR = str(Path(__file__).resolve().parents[2] / "functions")
if _FUNCTIONS_DIR not in sys.path:
    sys.path.insert(0, _FUNCTIONS_DIR)
