"""Copy PFMON's tables from one environment to another, resumably.

Each table is read with a parallel segmented Scan and written with BatchWriteItem.
After every page whose items are all written, the checkpoint stores the page's
LastEvaluatedKey, so an interrupted run resumes each segment where it stood. A copy
never deletes items and never creates or changes tables. It rejects a target table
that already contains items unless `merge` is set. Then a source item replaces the
target item with the same key, and other target items stay.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pfmon_api import tables
from tools.migrate import schema
from tools.migrate.aws import Endpoint
from tools.migrate.batch_write import BatchWriter, batches
from tools.migrate.checkpoint import Checkpoint, RunIdentity
from tools.migrate.credentials import describe_target_key, reencrypt_credential
from tools.migrate.digest import Item
from tools.migrate.errors import CheckpointError, TargetNotEmptyError
from tools.migrate.progress import Progress, TableSummary
from tools.migrate.scan import count_items, has_items, run_segments, scan_pages

logger = logging.getLogger(__name__)

CREDENTIALS_SUFFIX = tables.USER_CREDENTIALS.suffix


@dataclass(frozen=True)
class CopyOptions:
    """Validated settings of one copy run."""

    project: str
    source_env: str
    target_env: str
    endpoint: Endpoint
    tables: tuple[tables.TableDefinition, ...]
    segments: int
    checkpoint_path: Path
    merge: bool = False
    resume: bool = False
    reencrypt_key_arn: str | None = None
    page_size: int | None = None

    def run_identity(self) -> RunIdentity:
        return RunIdentity(
            project=self.project,
            source_env=self.source_env,
            target_env=self.target_env,
            region=self.endpoint.region,
            endpoint_url=self.endpoint.url,
            tables=tuple(definition.suffix for definition in self.tables),
            total_segments=self.segments,
            merge=self.merge,
            reencrypt_key_arn=self.reencrypt_key_arn,
        )


@dataclass(frozen=True)
class PlannedTable:
    """A table pair after its checks: the source's ItemCount and the target's state."""

    pair: schema.TablePair
    estimated_items: int
    target_has_items: bool


@dataclass(frozen=True)
class DryRunTable:
    """Dry-run result of one table: exact source count and the target's state."""

    pair: schema.TablePair
    source_items: int
    target_has_items: bool
    reencrypt: bool


class CopyRun:
    """One copy (or dry run) of the selected tables with the given clients."""

    def __init__(
        self,
        options: CopyOptions,
        dynamodb: Any,
        progress: Progress,
        *,
        kms: Any = None,
        writer: BatchWriter | None = None,
        after_batch: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self._dynamodb = dynamodb
        self._kms = kms
        self._progress = progress
        self._writer = writer or BatchWriter(dynamodb)
        # Called with the table suffix after every written batch, where tests interrupt.
        self._after_batch = after_batch
        self._target_key_arn: str | None = None
        # Set once the checkpoint is open, after which a failed run can be resumed.
        self.checkpoint_opened = False
        self.pairs = schema.table_pairs(
            options.project, options.source_env, options.target_env, options.tables
        )

    def plan(self) -> list[PlannedTable]:
        """Check that every table exists with the declared key schema."""
        planned = []
        for pair in self.pairs:
            source = schema.describe_table(self._dynamodb, pair.source_name, "source")
            schema.check_key_schema(source, pair.definition, "source")
            target = schema.describe_table(self._dynamodb, pair.target_name, "target")
            schema.check_key_schema(target, pair.definition, "target")
            planned.append(
                PlannedTable(
                    pair=pair,
                    estimated_items=int(source.get("ItemCount", 0)),
                    target_has_items=has_items(self._dynamodb, pair.target_name),
                )
            )
        if self.options.reencrypt_key_arn is not None:
            self._target_key_arn = describe_target_key(
                self._kms, self.options.reencrypt_key_arn
            )
        return planned

    def dry_run(self) -> list[DryRunTable]:
        """Return per table the exact source item count and the target's state."""
        return [
            DryRunTable(
                pair=table.pair,
                source_items=count_items(
                    self._dynamodb, table.pair.source_name, self.options.segments
                ),
                target_has_items=table.target_has_items,
                reencrypt=self._reencrypts(table.pair),
            )
            for table in self.plan()
        ]

    def run(self) -> list[TableSummary]:
        """Copy every table and return the per-table totals of this run."""
        planned = self.plan()
        checkpoint = self._open_checkpoint(planned)
        self.checkpoint_opened = True
        if any(table.pair.suffix == CREDENTIALS_SUFFIX for table in planned) and (
            self.options.reencrypt_key_arn is None
        ):
            logger.warning(
                "copying %s without --reencrypt-credentials: its data keys stay "
                "encrypted under the source environment's KMS key",
                CREDENTIALS_SUFFIX,
            )
        summaries = []
        for table in planned:
            if _table_done(checkpoint, table.pair.suffix):
                logger.info("%s is complete in the checkpoint", table.pair.suffix)
                continue
            self._progress.start_table(
                table.pair.suffix,
                table.estimated_items,
                already_done=checkpoint.items_written(table.pair.suffix),
            )
            run_segments(
                self.options.segments,
                functools.partial(self._copy_segment, checkpoint, table.pair),
            )
            summaries.append(self._progress.finish_table())
        return summaries

    def _open_checkpoint(self, planned: list[PlannedTable]) -> Checkpoint:
        path = self.options.checkpoint_path
        run = self.options.run_identity()
        if self.options.resume:
            checkpoint = Checkpoint.load(path)
            checkpoint.check_matches(run)
            # The first run checked that the targets were empty (or --merge was set)
            # before it wrote anything, so items found now are its own.
            return checkpoint
        if path.exists():
            raise CheckpointError(
                f"checkpoint {path} already exists: pass --resume to continue that "
                "run, or choose another --checkpoint to start a new one"
            )
        if not self.options.merge:
            occupied = [
                table.pair.target_name for table in planned if table.target_has_items
            ]
            if occupied:
                raise TargetNotEmptyError(
                    f"target tables {', '.join(occupied)} already contain items: pass "
                    "--merge to add the source items to them (a source item replaces "
                    "the target item with the same key, and nothing is deleted)"
                )
        return Checkpoint.create(path, run)

    def _reencrypts(self, pair: schema.TablePair) -> bool:
        return (
            pair.suffix == CREDENTIALS_SUFFIX
            and self.options.reencrypt_key_arn is not None
        )

    def _copy_segment(
        self,
        checkpoint: Checkpoint,
        pair: schema.TablePair,
        segment: int,
        stop: threading.Event,
    ) -> None:
        start = checkpoint.segment(pair.suffix, segment)
        if start.done:
            return
        pages = scan_pages(
            self._dynamodb,
            pair.source_name,
            segment,
            self.options.segments,
            start_key=start.last_evaluated_key,
            page_size=self.options.page_size,
        )
        for page in pages:
            if stop.is_set():
                return
            self._progress.add(scanned=len(page.items))
            items = self._prepare(pair, page.items)
            for batch in batches(items):
                if stop.is_set():
                    # The page is incomplete, so the checkpoint keeps the previous key.
                    return
                retried = self._writer.write(pair.target_name, batch)
                self._progress.add(written=len(batch), retried=retried)
                if self._after_batch is not None:
                    self._after_batch(pair.suffix)
            checkpoint.record_page(
                pair.suffix, segment, page.last_evaluated_key, len(items)
            )

    def _prepare(self, pair: schema.TablePair, items: list[Item]) -> list[Item]:
        if not self._reencrypts(pair):
            return items
        key_arn = self._target_key_arn
        if key_arn is None:
            raise RuntimeError("CopyRun.plan must run before items are re-encrypted")
        return [reencrypt_credential(self._kms, item, key_arn) for item in items]


def _table_done(checkpoint: Checkpoint, suffix: str) -> bool:
    return all(
        checkpoint.segment(suffix, index).done
        for index in range(checkpoint.run.total_segments)
    )


def render_dry_run(planned: list[DryRunTable], merge: bool, out: TextIO) -> bool:
    """Write the dry-run report and return whether the copy would start."""
    would_start = True
    for table in planned:
        pair = table.pair
        line = (
            f"{pair.suffix}: would copy {table.source_items:,} items from "
            f"{pair.source_name} to {pair.target_name}"
        )
        if table.reencrypt:
            line += ", re-encrypting each credential's data key"
        if table.target_has_items and merge:
            line += "; the target contains items, which --merge keeps"
        elif table.target_has_items:
            line += "; REJECTED: the target contains items and --merge is not set"
            would_start = False
        out.write(line + "\n")
    total = sum(table.source_items for table in planned)
    verdict = "would start" if would_start else "would be rejected"
    out.write(
        f"dry run: {total:,} items in {len(planned)} tables, the copy {verdict}; "
        "nothing was written\n"
    )
    return would_start
