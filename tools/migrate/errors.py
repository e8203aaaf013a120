"""Errors of the migration tools. Each message names the value and the fix."""

from __future__ import annotations


class MigrationError(Exception):
    """A migration, verification or drill step that cannot continue."""


class UsageError(MigrationError):
    """An invalid command-line value, for which the command exits with status 2."""


class TableNotFoundError(MigrationError):
    """A source or target table that does not exist or is not ACTIVE."""


class KeySchemaMismatchError(MigrationError):
    """A table whose key schema differs from the definition in pfmon_api.tables."""


class TargetNotEmptyError(MigrationError):
    """A target table that already contains items while --merge is not set."""


class UnprocessedItemsError(MigrationError):
    """BatchWriteItem left items unprocessed after the last allowed attempt."""


class CheckpointError(MigrationError):
    """A checkpoint file that is missing, unreadable or written for another run."""


class CredentialEnvelopeError(MigrationError):
    """A credential item whose envelope fields are missing or cannot be re-encrypted."""


class RestoreError(MigrationError):
    """A restore that AWS rejected, that failed, or that did not finish in time."""
