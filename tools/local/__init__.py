"""The local environment: PFMON's back end on one machine, with no AWS account.

`python -m tools.local` (or `make local`) runs an AWS emulator (moto) holding the dev
stack's tables, user pool and KMS key, and a local HTTP API that verifies Cognito
tokens as API Gateway does and runs the Lambda handlers. See docs/local.md.
"""

import sys
from pathlib import Path

# The Lambda package `pfmon_api` lives in functions/, as in the deployed function's
# code root; the local environment reads its table and route definitions.
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))
