"""Compare two tables item by item: counts, digests and the keys that differ.

Both tables are read in full with a segmented Scan. For every item the comparison keeps
its key and the SHA-256 of its canonical JSON (about 100 bytes per item in memory), so
it finds items missing in the target, extra in the target, and changed.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from tools.migrate.digest import TableDigest, canonical_value, item_hash, key_string
from tools.migrate.progress import Progress
from tools.migrate.scan import run_segments, scan_pages

# Differences listed per table before the rest is only counted.
DEFAULT_MAX_DIFFERENCES = 20


@dataclass
class TableHashes:
    """Item count, digest and per-key item hashes of one table."""

    digest: TableDigest = field(default_factory=TableDigest)
    hashes: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """One item that differs: its kind, its key and, when changed, the attributes."""

    kind: str  # "missing" in the target, "extra" in the target, or "changed"
    key: str
    attributes: tuple[str, ...] = ()


@dataclass
class TableComparison:
    """The result of comparing a source table with a target table."""

    label: str
    source_name: str
    target_name: str
    source: TableDigest
    target: TableDigest
    missing: list[str]
    extra: list[str]
    changed: list[str]
    # The first differences, in report order: missing, changed, extra.
    listed: list[Difference] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return (
            self.source.count == self.target.count
            and self.source.hexdigest == self.target.hexdigest
            and not (self.missing or self.extra or self.changed)
        )

    @property
    def difference_count(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.changed)


def hash_table(
    client: Any,
    table_name: str,
    key_attributes: tuple[str, ...],
    segments: int,
    *,
    ignore: Iterable[str] = (),
    progress: Progress | None = None,
) -> TableHashes:
    """Scan a table and return its count, digest and the hash of every item."""
    skipped = tuple(ignore)

    def hash_segment(segment: int, stop: threading.Event) -> TableHashes:
        result = TableHashes()
        for page in scan_pages(client, table_name, segment, segments):
            if stop.is_set():
                break
            for item in page.items:
                digest = item_hash(item, skipped)
                result.hashes[key_string(item, key_attributes)] = digest
                result.digest.add(digest)
            if progress is not None:
                progress.add(scanned=len(page.items))
        return result

    if progress is not None:
        described = client.describe_table(TableName=table_name)["Table"]
        progress.start_table(table_name, int(described.get("ItemCount", 0)))
    merged = TableHashes()
    for part in run_segments(segments, hash_segment):
        merged.digest.merge(part.digest)
        merged.hashes.update(part.hashes)
    if progress is not None:
        progress.finish_table()
    return merged


def compare_tables(
    client: Any,
    label: str,
    *,
    source_name: str,
    target_name: str,
    key_types: Mapping[str, str],
    segments: int,
    ignore: Iterable[str] = (),
    max_differences: int = DEFAULT_MAX_DIFFERENCES,
    progress: Progress | None = None,
) -> TableComparison:
    """Compare two tables with the same key schema.

    `key_types` maps each key attribute to its type (S, N or B). Attributes in
    `ignore` are left out of every item hash. For the first `max_differences`
    differences, changed items are read again to name the attributes that differ.
    """
    keys = tuple(key_types)
    skipped = tuple(ignore)
    source = hash_table(
        client, source_name, keys, segments, ignore=skipped, progress=progress
    )
    target = hash_table(
        client, target_name, keys, segments, ignore=skipped, progress=progress
    )

    missing = sorted(set(source.hashes) - set(target.hashes))
    extra = sorted(set(target.hashes) - set(source.hashes))
    changed = sorted(
        key
        for key, digest in source.hashes.items()
        if key in target.hashes and target.hashes[key] != digest
    )
    comparison = TableComparison(
        label=label,
        source_name=source_name,
        target_name=target_name,
        source=source.digest,
        target=target.digest,
        missing=missing,
        extra=extra,
        changed=changed,
    )
    listed = [Difference("missing", key) for key in missing]
    listed += [Difference("changed", key) for key in changed]
    listed += [Difference("extra", key) for key in extra]
    comparison.listed = [
        _with_attributes(
            client,
            difference,
            source_name=source_name,
            target_name=target_name,
            key_types=key_types,
            ignore=skipped,
        )
        for difference in listed[:max_differences]
    ]
    return comparison


def _with_attributes(
    client: Any,
    difference: Difference,
    *,
    source_name: str,
    target_name: str,
    key_types: Mapping[str, str],
    ignore: tuple[str, ...],
) -> Difference:
    if difference.kind != "changed":
        return difference
    key = _key_from_string(difference.key, key_types)
    source = _get_item(client, source_name, key)
    target = _get_item(client, target_name, key)
    names = sorted((set(source) | set(target)) - set(ignore))
    attributes = tuple(
        name
        for name in names
        if _canonical(source.get(name)) != _canonical(target.get(name))
    )
    return Difference(difference.kind, difference.key, attributes)


def _get_item(client: Any, table_name: str, key: dict[str, Any]) -> dict[str, Any]:
    response = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)
    item: dict[str, Any] = response.get("Item", {})
    return item


def _canonical(value: Mapping[str, Any] | None) -> Any:
    return None if value is None else canonical_value(value)


def _key_from_string(text: str, key_types: Mapping[str, str]) -> dict[str, Any]:
    plain = json.loads(text)
    key: dict[str, Any] = {}
    for name, kind in key_types.items():
        value = plain[name]
        key[name] = {kind: base64.b64decode(value) if kind == "B" else value}
    return key


def render_comparison(
    comparison: TableComparison, out: TextIO, target_role: str = "target"
) -> None:
    """Write one table's result: counts and digests, then the differences listed.

    `target_role` names the second table in the difference lines, such as "restored".
    """
    source, target = comparison.source, comparison.target
    if comparison.equal:
        out.write(
            f"{comparison.label}: equal, {source.count:,} items in "
            f"{comparison.source_name} and {comparison.target_name}, "
            f"digest {source.hexdigest[:16]}\n"
        )
        return
    out.write(
        f"{comparison.label}: DIFFERENT, {comparison.source_name} has "
        f"{source.count:,} items (digest {source.hexdigest[:16]}), "
        f"{comparison.target_name} has {target.count:,} items "
        f"(digest {target.hexdigest[:16]})\n"
    )
    for difference in comparison.listed:
        out.write(f"  {_describe(difference, target_role)}\n")
    hidden = comparison.difference_count - len(comparison.listed)
    if hidden > 0:
        out.write(
            f"  ... and {hidden:,} more differences ({len(comparison.missing):,} "
            f"missing in {target_role}, {len(comparison.extra):,} extra in "
            f"{target_role}, {len(comparison.changed):,} changed in all)\n"
        )


def _describe(difference: Difference, target_role: str) -> str:
    if difference.kind == "missing":
        return f"missing in {target_role}: {difference.key}"
    if difference.kind == "extra":
        return f"extra in {target_role}: {difference.key}"
    attributes = ", ".join(difference.attributes) or "none after a second read"
    return f"changed: {difference.key} (attributes: {attributes})"
