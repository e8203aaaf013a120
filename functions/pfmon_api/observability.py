"""The structured JSON logger of every PFMON function and its handler decorators.

Every log line written during an invocation carries the service name, the Lambda
request id (`function_request_id`) and, for HTTP requests, the API Gateway
request id (`correlation_id`). Events are never logged, because an HTTP API event
contains the caller's bearer token and a Cognito trigger event contains the user's
email address.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

# ApiFunctions sets POWERTOOLS_SERVICE_NAME to "pfmon-<family>" on each function. The
# tests and the local environment leave it unset and log as "pfmon".
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "pfmon")

# log_event=False overrides POWERTOOLS_LOGGER_LOG_EVENT, so no setting can log tokens.
inject_http_context = logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP,
    log_event=False,
    clear_state=True,
)
inject_trigger_context = logger.inject_lambda_context(log_event=False, clear_state=True)
