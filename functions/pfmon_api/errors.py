"""Domain exceptions of the API and the one mapping from exceptions to HTTP responses.

Every error response has the body
`{"error": {"code": ..., "message": ..., "field": ...}}`, where `field` names the
offending request field or is null. Server faults (status 500) return a fixed message
with the request id, so no exception text reaches the client.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import ClassVar

from aws_lambda_powertools.event_handler import Response, content_types

from pfmon_api.observability import logger


class ApiError(Exception):
    """Base of the errors that the API maps to a status code and an error code."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST
    code: ClassVar[str] = "BadRequest"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ApiError):
    """A request value is missing, unknown or invalid, and `field` names it."""

    code = "ValidationError"


class UnauthorizedError(ApiError):
    """The request carries no usable caller identity."""

    status = HTTPStatus.UNAUTHORIZED
    code = "Unauthorized"


class NotFoundError(ApiError):
    """The caller has no item with this key (another user's item is not found too)."""

    status = HTTPStatus.NOT_FOUND
    code = "NotFound"


class RouteNotFoundError(ApiError):
    """No route of this function matches the method and path of the request."""

    status = HTTPStatus.NOT_FOUND
    code = "RouteNotFound"


class ConflictError(ApiError):
    """The write lost a race: the stored item changed since the client read it."""

    status = HTTPStatus.CONFLICT
    code = "Conflict"


class PayloadTooLargeError(ApiError):
    """The request body exceeds the size limit of the API."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "PayloadTooLarge"


class NotImplementedYetError(ApiError):
    """The route is deployed but its logic is not written yet."""

    status = HTTPStatus.NOT_IMPLEMENTED
    code = "NotImplemented"


class ServiceUnavailableError(ApiError):
    """A dependency throttled the request, so the client may retry after a pause."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "ServiceUnavailable"


class InternalError(ApiError):
    """A server fault. Its message goes to the logs only, never to the client."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "InternalError"


class ConfigurationError(InternalError):
    """The function is deployed without a setting it needs, such as a table name."""


class DataStoreError(InternalError):
    """A DynamoDB request failed for a reason other than a failed condition.

    The message carries only the operation and the AWS error code, because the text of
    the underlying exception may contain item values.
    """

    def __init__(self, operation: str, table_name: str, error_code: str) -> None:
        super().__init__(f"DynamoDB {operation} failed with {error_code}")
        self.operation = operation
        self.table_name = table_name
        self.error_code = error_code


def to_response(error: Exception, request_id: str) -> Response[str]:
    """Log an exception raised by a route and return the HTTP response for it.

    A client error (4xx) is logged at INFO, and a 501 or 503 at WARNING. A server fault
    is logged at ERROR, and an exception that is not an `ApiError` is logged with its
    traceback. The body of a 500 contains no exception text.
    """
    if isinstance(error, InternalError):
        _log_internal_error(error)
        return _internal_error_response(request_id)
    if isinstance(error, ApiError):
        fields = {
            "error_code": error.code,
            "status": int(error.status),
            "field": error.field,
        }
        if error.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.warning("request not served", extra=fields)
        else:
            logger.info("request rejected", extra=fields)
        return error_response(error.status, error.code, error.message, error.field)

    logger.exception("unexpected error", extra={"error_type": type(error).__name__})
    return _internal_error_response(request_id)


def error_response(
    status: HTTPStatus, code: str, message: str, field: str | None = None
) -> Response[str]:
    """Build an error response with the error body of the API."""
    body = {"error": {"code": code, "message": message, "field": field}}
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={"Cache-Control": "no-store"},
    )


def _log_internal_error(error: InternalError) -> None:
    if isinstance(error, DataStoreError):
        # No traceback: the chained botocore exception may quote item values.
        logger.error(
            "data store request failed",
            extra={
                "operation": error.operation,
                "table_name": error.table_name,
                "error_code": error.error_code,
            },
        )
        return
    logger.error(
        "internal error",
        extra={"error_type": type(error).__name__, "detail": error.message},
    )


def _internal_error_response(request_id: str) -> Response[str]:
    message = (
        "The request failed because of an internal error. If it keeps failing, "
        f"report request id {request_id}."
    )
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, InternalError.code, message)
