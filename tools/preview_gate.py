"""Fail a preview that would replace or delete a stateful resource in test or prod.

    pulumi preview --stack prod --json > preview.json
    python -m tools.preview_gate --stack prod preview.json
    python -m tools.preview_gate --stack test preview.json --markdown summary.md
    pulumi preview --stack test --json | python -m tools.preview_gate --stack test -

The input is what `pulumi preview --json` prints, in either of its two forms:

- the preview digest (the default): one JSON object whose `steps` list has one object
  per step with `op` and `urn`, and `oldState`/`newState` (each with `type`),
  `replaceReasons`, `diffReasons` and `detailedDiff` where they apply;
- the engine event stream (printed when PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true): one
  JSON object per line. Each `resourcePreEvent.metadata` holds `op`, `urn`, `type`,
  `keys`, `diffs` and `detailedDiff`. The stream must contain a `summaryEvent` and no
  `cancelEvent`, because a preview that did not finish may not list every step.

Guarded types: DynamoDB tables, Cognito user pools, KMS keys, S3 buckets and AWS Backup
vaults. Guarded operations: `delete`, every step of a replacement (`replace`,
`create-replacement`, `delete-replaced`, `import-replacement`, `remove-pending-replace`)
and `discard` (a resource read with `get` and dropped from the state). A step on a
guarded type with an operation this tool does not know is a finding too, so a new Pulumi
operation fails closed. In test and prod each finding is an error. In dev it is a
warning.

A finding is allowed by an entry in guardrails/allowed-replacements.yaml that names its
exact URN and operation (`delete`, `replace` or `discard`), with a reason and an expiry
date at most 90 days ahead. An expired entry is an error in test and prod.

Exit status: 0 when nothing blocks (dev warnings included), 1 when a finding or an
expired entry fails test or prod, 2 when the preview or the allow file cannot be read or
the --markdown file cannot be written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

STACKS = ("dev", "test", "prod")
STRICT_STACKS = frozenset({"test", "prod"})
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ALLOW_FILE = PROJECT_ROOT / "guardrails" / "allowed-replacements.yaml"
MAX_ALLOW_DAYS = 90
URN_PARTS = 4
# A GitHub comment has at most 65,536 characters; the table stops well before that.
MAX_TABLE_ROWS = 200


@dataclass(frozen=True)
class GuardedType:
    """A resource type whose replacement or deletion loses data."""

    label: str
    loss: str
    replace_causes: str


GUARDED_TYPES: Mapping[str, GuardedType] = {
    "aws:dynamodb/table:Table": GuardedType(
        "DynamoDB table",
        "every item in it",
        "its name, key schema and local secondary indexes",
    ),
    "aws:cognito/userPool:UserPool": GuardedType(
        "Cognito user pool",
        "every user account in it",
        "its schema, username and alias attributes",
    ),
    "aws:kms/key:Key": GuardedType(
        "KMS key",
        "every value encrypted under it once the key is deleted",
        "its key spec and key usage",
    ),
    "aws:s3/bucket:Bucket": GuardedType(
        "S3 bucket",
        "every object and object version in it",
        "its bucket name",
    ),
    # pulumi-aws 7 registers the bucket class as aws:s3/bucket:Bucket with an alias
    # from this v6 token, so a state written by pulumi-aws 6 may still carry it.
    "aws:s3/bucketV2:BucketV2": GuardedType(
        "S3 bucket",
        "every object and object version in it",
        "its bucket name",
    ),
    "aws:backup/vault:Vault": GuardedType(
        "AWS Backup vault",
        "every recovery point in it",
        "its name and encryption key",
    ),
}

# Pulumi step operations (pkg/resource/deploy/step.go in pulumi/pulumi), grouped by what
# an allow entry names. `discard` drops a resource that the program only read, so
# nothing is deleted in AWS, but the program loses track of it.
GUARDED_OPERATIONS: Mapping[str, str] = {
    "delete": "delete",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "import-replacement": "replace",
    "remove-pending-replace": "replace",
    "discard": "discard",
    "discard-replaced": "discard",
    "read-replacement": "discard",
}
SAFE_OPERATIONS = frozenset(
    {"same", "create", "update", "read", "refresh", "import", "diff"}
)
ALLOW_OPERATIONS = ("delete", "replace", "discard")
ALLOW_KEYS = ("urn", "operation", "reason", "expires")

DIGEST_EXPECTED = (
    "expected the output of `pulumi preview --json`: a JSON object with a 'steps' list "
    "whose items have 'op' and 'urn' strings, or the event stream printed with "
    "PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true (one JSON object per line)"
)
EVENT_KEYS = frozenset(
    {
        "resourcePreEvent",
        "resOutputsEvent",
        "resOpFailedEvent",
        "summaryEvent",
        "diagnosticEvent",
        "preludeEvent",
        "stdoutEvent",
        "cancelEvent",
        "policyEvent",
    }
)


class GateInputError(Exception):
    """An input or output file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Step:
    """One step of the preview: an operation on one resource."""

    op: str
    urn: str
    type: str
    replace_reasons: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.split("::", 3)[-1]


@dataclass(frozen=True)
class Preview:
    """The steps, change summary and error diagnostics of one preview."""

    steps: tuple[Step, ...]
    change_summary: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class AllowEntry:
    """An entry of the allow file: one URN and operation, until an expiry date."""

    index: int
    urn: str
    operation: str
    reason: str
    expires: date


@dataclass(frozen=True)
class Finding:
    """A guarded operation on a guarded resource, with every step op behind it."""

    urn: str
    type: str
    operation: str
    step_ops: tuple[str, ...]
    replace_reasons: tuple[str, ...]

    def describe(self, allow_file: str) -> str:
        """Return the finding as one line: URN, operation, what is lost and the fix."""
        guarded = GUARDED_TYPES[self.type]
        steps = ", ".join(self.step_ops)
        if self.operation == "replace":
            reasons = ", ".join(self.replace_reasons) or "not reported"
            return (
                f"{self.urn}: replace of the {guarded.label} (steps: {steps}; "
                f"replaceReasons: {reasons}) loses {guarded.loss}. Fix: keep "
                f"{guarded.replace_causes} unchanged, or migrate the data and allow "
                f"this URN and operation in {allow_file}"
            )
        if self.operation == "delete":
            return (
                f"{self.urn}: delete of the {guarded.label} (steps: {steps}) loses "
                f"{guarded.loss}. Fix: keep the resource in the program (give it an "
                "alias when it was renamed or moved to another parent), or allow "
                f"this URN and operation in {allow_file}"
            )
        if self.operation == "discard":
            return (
                f"{self.urn}: discard of the {guarded.label} (steps: {steps}) drops "
                "it from the stack. Fix: keep reading it in the program, or allow "
                f"this URN and operation in {allow_file}"
            )
        return (
            f"{self.urn}: operation {self.operation!r} on the {guarded.label} is not "
            "one this gate knows, so it may lose "
            f"{guarded.loss}. Fix: check the preview by hand and update "
            "tools/preview_gate.py to classify the operation"
        )


@dataclass
class GateResult:
    """Findings of one preview, sorted into blocking, allowed and notes."""

    blocking: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- preview input ---------------------------------------------------------------


def load_preview(text: str, source: str) -> Preview:
    """Parse `pulumi preview --json` output in its digest or event-stream form."""
    stripped = text.strip()
    if not stripped:
        raise GateInputError(f"{source}: the file is empty; {DIGEST_EXPECTED}")
    try:
        document = _decode_json(stripped, source)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise GateInputError(
                f"{source}: not JSON ({error.msg} at line {error.lineno}); "
                f"{DIGEST_EXPECTED}"
            ) from error
        return _parse_event_stream(stripped.splitlines(), source)
    if isinstance(document, dict) and EVENT_KEYS.intersection(document):
        return _parse_event_stream([stripped], source)
    if not isinstance(document, dict):
        raise GateInputError(
            f"{source}: the JSON is a {type(document).__name__}, not an object; "
            f"{DIGEST_EXPECTED}"
        )
    return _parse_digest(document, source)


def _decode_json(text: str, where: str) -> object:
    """Decode JSON, and report nesting deeper than the recursion limit as bad input."""
    try:
        return json.loads(text)
    except RecursionError as error:
        # The json decoder recurses once per nested array or object, so input such as
        # 100,000 "[" exceeds sys.getrecursionlimit() (1,000 by default).
        raise GateInputError(
            f"{where}: the JSON is nested too deeply to parse; {DIGEST_EXPECTED}"
        ) from error


def _parse_digest(document: Mapping[str, object], source: str) -> Preview:
    errors = tuple(_digest_errors(document.get("diagnostics")))
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, list):
        found = ", ".join(sorted(document)) or "none"
        detail = f" The preview reported: {' | '.join(errors)}." if errors else ""
        raise GateInputError(
            f"{source}: no 'steps' list (keys found: {found}); "
            f"{DIGEST_EXPECTED}.{detail}"
        )
    steps = []
    for index, raw in enumerate(raw_steps):
        where = f"{source}: steps[{index}]"
        if not isinstance(raw, dict):
            raise GateInputError(f"{where} is not an object; {DIGEST_EXPECTED}")
        state_type = _state_type(raw.get("newState")) or _state_type(
            raw.get("oldState")
        )
        steps.append(
            _make_step(
                where,
                raw,
                state_type,
                replace_key="replaceReasons",
                diff_key="diffReasons",
                kind_key="kind",
            )
        )
    return Preview(tuple(steps), _counts(document.get("changeSummary")), errors)


def _parse_event_stream(lines: Sequence[str], source: str) -> Preview:
    steps: list[Step] = []
    errors: list[str] = []
    summary: Mapping[str, int] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}: line {number}"
        event = _decode_event(line, where)
        if "cancelEvent" in event:
            raise GateInputError(
                f"{where}: the preview was cancelled, so its steps are incomplete; "
                "run the preview again"
            )
        if "resourcePreEvent" in event:
            steps.append(_event_step(event["resourcePreEvent"], where))
        elif "summaryEvent" in event:
            summary = _event_summary(event["summaryEvent"])
        elif "diagnosticEvent" in event:
            errors.extend(_digest_errors([event["diagnosticEvent"]]))
    if summary is None:
        raise GateInputError(
            f"{source}: the event stream has no summaryEvent, so the preview did not "
            f"finish and may not list every step; {DIGEST_EXPECTED}"
        )
    return Preview(tuple(steps), summary, tuple(errors))


def _decode_event(line: str, where: str) -> Mapping[str, object]:
    try:
        event = _decode_json(line, where)
    except json.JSONDecodeError as error:
        raise GateInputError(
            f"{where}: not JSON ({error.msg}); {DIGEST_EXPECTED}"
        ) from error
    if not isinstance(event, dict) or not EVENT_KEYS.intersection(event):
        raise GateInputError(
            f"{where}: not a Pulumi engine event (expected one of "
            f"{', '.join(sorted(EVENT_KEYS))}); {DIGEST_EXPECTED}"
        )
    return event


def _event_step(payload: object, where: str) -> Step:
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    if not isinstance(metadata, dict):
        raise GateInputError(
            f"{where}: resourcePreEvent has no 'metadata' object; {DIGEST_EXPECTED}"
        )
    event_type = metadata.get("type")
    return _make_step(
        f"{where}: resourcePreEvent.metadata",
        metadata,
        event_type if isinstance(event_type, str) else None,
        replace_key="keys",
        diff_key="diffs",
        kind_key="diffKind",
    )


def _event_summary(payload: object) -> Mapping[str, int]:
    changes = payload.get("resourceChanges") if isinstance(payload, dict) else None
    return _counts(changes)


def _make_step(
    where: str,
    raw: Mapping[str, object],
    declared_type: str | None,
    *,
    replace_key: str,
    diff_key: str,
    kind_key: str,
) -> Step:
    op = raw.get("op")
    urn = raw.get("urn")
    if not isinstance(op, str) or not op:
        raise GateInputError(f"{where} has no 'op' string; {DIGEST_EXPECTED}")
    if not isinstance(urn, str) or not urn:
        raise GateInputError(f"{where} has no 'urn' string; {DIGEST_EXPECTED}")
    urn_type = parse_urn(urn, where)[2]
    return Step(
        op=op,
        urn=urn,
        type=declared_type or urn_type,
        replace_reasons=_strings(raw.get(replace_key)),
        changed=_changed_properties(
            raw.get("detailedDiff"), raw.get(diff_key), kind_key
        ),
    )


def parse_urn(urn: str, where: str) -> tuple[str, str, str, str]:
    """Split a URN into stack, project, resource type and logical name."""
    # urn:pulumi:<stack>::<project>::<parent types $ type>::<name>; the name may
    # itself contain "::", so split at most three times.
    parts = urn.split("::", URN_PARTS - 1)
    well_formed = len(parts) == URN_PARTS and parts[0].startswith("urn:pulumi:")
    if not well_formed or not parts[-1]:
        raise GateInputError(
            f"{where}: {urn!r} is not a Pulumi URN; expected "
            "urn:pulumi:<stack>::<project>::<type>::<name>"
        )
    stack = parts[0].removeprefix("urn:pulumi:")
    return stack, parts[1], parts[2].rsplit("$", 1)[-1], parts[3]


def _state_type(state: object) -> str | None:
    if isinstance(state, dict) and isinstance(state.get("type"), str):
        return str(state["type"])
    return None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _changed_properties(
    detailed: object, reasons: object, kind_key: str
) -> tuple[str, ...]:
    if isinstance(detailed, dict) and detailed:
        changed = []
        for path, diff in sorted(detailed.items()):
            kind = diff.get(kind_key) if isinstance(diff, dict) else None
            changed.append(f"{path} ({kind})" if isinstance(kind, str) else str(path))
        return tuple(changed)
    return _strings(reasons)


def _counts(value: object) -> Mapping[str, int]:
    if not isinstance(value, dict):
        return {}
    return {
        str(op): count
        for op, count in value.items()
        if isinstance(count, int) and not isinstance(count, bool)
    }


def _digest_errors(diagnostics: object) -> Iterator[str]:
    if not isinstance(diagnostics, list):
        return
    for diagnostic in diagnostics:
        if not isinstance(diagnostic, dict) or diagnostic.get("severity") != "error":
            continue
        message = diagnostic.get("message")
        if isinstance(message, str) and message.strip():
            yield " ".join(message.split())


# --- allow file ------------------------------------------------------------------


def display_path(path: Path) -> str:
    """Return the path relative to the repository root when it lies inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def load_allow_file(path: Path, today: date) -> list[AllowEntry]:
    """Read and validate the allow file; a missing file allows nothing."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise GateInputError(f"{name}: cannot be read ({error.strerror})") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise GateInputError(
            f"{name}: not valid YAML ({error}); expected a mapping with an "
            "'allowed' list"
        ) from error
    except RecursionError as error:
        # PyYAML composes nested collections recursively, like the json decoder.
        raise GateInputError(
            f"{name}: the YAML is nested too deeply to parse; expected a mapping with "
            "an 'allowed' list"
        ) from error
    if document is None:
        return []
    if not isinstance(document, dict) or set(document) - {"allowed"}:
        raise GateInputError(
            f"{name}: expected a mapping with only the key 'allowed' (a list of "
            f"entries with {', '.join(ALLOW_KEYS)})"
        )
    raw_entries = document.get("allowed") or []
    if not isinstance(raw_entries, list):
        raise GateInputError(
            f"{name}: 'allowed' is invalid; expected a list of entries"
        )
    entries = [
        _allow_entry(raw, f"{name}: allowed[{index}]", index, today)
        for index, raw in enumerate(raw_entries)
    ]
    _reject_duplicates(entries, name)
    return entries


def _allow_entry(raw: object, where: str, index: int, today: date) -> AllowEntry:
    if not isinstance(raw, dict):
        raise GateInputError(
            f"{where} is not a mapping; expected keys {', '.join(ALLOW_KEYS)}"
        )

    missing = [key for key in ALLOW_KEYS if key not in raw]
    unknown = sorted(str(key) for key in raw if key not in ALLOW_KEYS)
    problems = []
    if missing:
        problems.append(f"is missing {', '.join(map(repr, missing))}")
    if unknown:
        problems.append(f"has unknown keys {', '.join(map(repr, unknown))}")
    if problems:
        raise GateInputError(
            f"{where} {' and '.join(problems)}; expected exactly the keys "
            f"{', '.join(ALLOW_KEYS)}"
        )

    urn = raw["urn"]
    if not isinstance(urn, str):
        raise GateInputError(f"{where}.urn = {urn!r} is invalid; expected a URN")
    urn_type = parse_urn(urn, f"{where}.urn")[2]
    if urn_type not in GUARDED_TYPES:
        raise GateInputError(
            f"{where}.urn names type {urn_type!r}, which the gate does not guard; "
            f"guarded types: {', '.join(sorted(GUARDED_TYPES))}"
        )

    operation = raw["operation"]
    if operation not in ALLOW_OPERATIONS:
        raise GateInputError(
            f"{where}.operation = {operation!r} is invalid; expected one of "
            f"{', '.join(ALLOW_OPERATIONS)}"
        )

    reason = raw["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise GateInputError(
            f"{where}.reason is blank; state why the data loss is acceptable or how "
            "the data is migrated"
        )

    expires = _expiry(raw["expires"], where, today)
    return AllowEntry(index, urn, str(operation), reason.strip(), expires)


def _expiry(value: object, where: str, today: date) -> date:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if not isinstance(value, date) or isinstance(value, datetime):
        raise GateInputError(
            f"{where}.expires = {value!r} is invalid; expected a date as YYYY-MM-DD"
        )
    if value > today + timedelta(days=MAX_ALLOW_DAYS):
        raise GateInputError(
            f"{where}.expires = {value.isoformat()} is more than {MAX_ALLOW_DAYS} "
            f"days after {today.isoformat()}; an entry covers one planned change, "
            "so give it an expiry date within that window"
        )
    return value


def _reject_duplicates(entries: Iterable[AllowEntry], name: str) -> None:
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        key = (entry.urn, entry.operation)
        if key in seen:
            raise GateInputError(
                f"{name}: allowed[{entry.index}] repeats allowed[{seen[key]}] "
                f"({entry.urn}, {entry.operation}); keep one entry"
            )
        seen[key] = entry.index


# --- evaluation ------------------------------------------------------------------


def check_stack(preview: Preview, stack: str, source: str) -> None:
    """Reject a preview whose URNs belong to another stack than the one gated."""
    for step in preview.steps:
        urn_stack = parse_urn(step.urn, source)[0]
        if urn_stack != stack:
            raise GateInputError(
                f"{source}: {step.urn} belongs to stack {urn_stack!r}, not {stack!r}; "
                "pass the preview of the stack named by --stack"
            )


def find_destructive(preview: Preview) -> list[Finding]:
    """Group the guarded steps of a preview by URN and allow-file operation."""
    grouped: dict[tuple[str, str], list[Step]] = {}
    for step in preview.steps:
        if step.type not in GUARDED_TYPES or step.op in SAFE_OPERATIONS:
            continue
        operation = GUARDED_OPERATIONS.get(step.op, step.op)
        grouped.setdefault((step.urn, operation), []).append(step)
    findings = []
    for (urn, operation), steps in grouped.items():
        reasons = sorted({reason for step in steps for reason in step.replace_reasons})
        findings.append(
            Finding(
                urn=urn,
                type=steps[0].type,
                operation=operation,
                step_ops=tuple(dict.fromkeys(step.op for step in steps)),
                replace_reasons=tuple(reasons),
            )
        )
    return findings


def evaluate(
    preview: Preview,
    stack: str,
    entries: Sequence[AllowEntry],
    today: date,
    allow_file: Path,
) -> GateResult:
    """Sort the findings of a preview into blocking, allowed and notes."""
    allow_name = display_path(allow_file)
    result = GateResult()
    live = {(e.urn, e.operation): e for e in entries if e.expires >= today}
    used: set[tuple[str, str]] = set()
    for finding in find_destructive(preview):
        key = (finding.urn, finding.operation)
        entry = live.get(key)
        if entry is not None:
            used.add(key)
            result.allowed.append(
                f"{finding.describe(allow_name)}; allowed by {allow_name}: "
                f"allowed[{entry.index}] until {entry.expires.isoformat()} "
                f"({entry.reason})"
            )
        else:
            result.blocking.append(finding.describe(allow_name))
    for entry in entries:
        if parse_urn(entry.urn, allow_name)[0] != stack:
            continue
        where = f"{allow_name}: allowed[{entry.index}] ({entry.urn}, {entry.operation})"
        if entry.expires < today:
            result.blocking.append(
                f"{where} expired on {entry.expires.isoformat()}. Fix: remove the "
                "entry, or renew it in a reviewed pull request"
            )
        elif (entry.urn, entry.operation) not in used:
            result.notes.append(
                f"{where} matches no step of this preview. Fix: remove it once the "
                "change is deployed"
            )
    return result


# --- output ----------------------------------------------------------------------


def render_markdown(preview: Preview, stack: str, result: GateResult) -> str:
    """Render the preview's changes and the gate's findings for a pull request."""
    strict = stack in STRICT_STACKS
    if result.blocking and strict:
        verdict = f"**failed**: {len(result.blocking)} destructive change(s) blocked"
    elif result.blocking:
        verdict = f"warnings only (dev): {len(result.blocking)} destructive change(s)"
    else:
        verdict = "**passed**"
    lines = [f"### `pulumi preview` of stack `{stack}`", ""]
    lines += [f"Destructive-change gate: {verdict}.", ""]
    for prefix, messages in (
        ("blocked" if strict else "warning", result.blocking),
        ("allowed", result.allowed),
        ("note", result.notes),
    ):
        lines += [f"- {prefix}: {_cell(message)}" for message in messages]
    if preview.errors:
        lines += ["", "Errors reported by the preview:", ""]
        lines += [f"- {_cell(message)}" for message in preview.errors]
    changes = [step for step in preview.steps if step.op != "same"]
    lines += ["", f"#### Changes ({len(changes)})", ""]
    lines += _change_table(changes)
    summary = ", ".join(
        f"{op} {count}" for op, count in sorted(preview.change_summary.items())
    )
    lines += ["", f"Change summary: {summary or 'not reported'}.", ""]
    return "\n".join(lines)


def _change_table(changes: Sequence[Step]) -> list[str]:
    if not changes:
        return ["No resource changes."]
    rows = ["| operation | type | name | properties |", "| --- | --- | --- | --- |"]
    for step in changes[:MAX_TABLE_ROWS]:
        properties = ", ".join(step.changed) or "-"
        name = _cell(step.name)
        rows.append(f"| {step.op} | `{step.type}` | `{name}` | {_cell(properties)} |")
    if len(changes) > MAX_TABLE_ROWS:
        rows += ["", f"{len(changes) - MAX_TABLE_ROWS} more changes are not listed."]
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _read_source(name: str) -> tuple[str, str]:
    if name == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8"), name
    except FileNotFoundError as error:
        raise GateInputError(
            f"{name}: not found; write it with pulumi preview --stack <stack> --json "
            f"> {name}"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise GateInputError(f"{name}: cannot be read ({error})") from error


def check_allow_option(path: Path) -> None:
    """Reject an --allow-file path that names no regular file."""
    expected = (
        "expected a YAML file with an 'allowed' list, such as "
        "guardrails/allowed-replacements.yaml"
    )
    if path.is_dir():
        raise GateInputError(f"--allow-file {path}: is a directory; {expected}")
    if not path.exists():
        raise GateInputError(
            f"--allow-file {path}: not found; {expected}, or leave out --allow-file "
            "to read the default"
        )
    if not path.is_file():
        raise GateInputError(f"--allow-file {path}: not a regular file; {expected}")


def check_markdown_option(path: Path) -> None:
    """Reject a --markdown path that cannot be written, before the preview is read."""
    where = f"--markdown {path}"
    if path.is_dir():
        raise GateInputError(
            f"{where}: is a directory; pass the path of the file to write, such as "
            f"{path / 'preview-summary.md'}"
        )
    directory = path.parent
    if directory.exists() and not directory.is_dir():
        raise GateInputError(
            f"{where}: {directory} is not a directory; pass a path in an existing "
            "directory"
        )
    if not directory.is_dir():
        raise GateInputError(
            f"{where}: directory {directory} does not exist; create it first or pass "
            "a path in an existing directory"
        )
    writable = (
        os.access(path, os.W_OK)
        if path.exists()
        else os.access(directory, os.W_OK | os.X_OK)
    )
    if not writable:
        raise GateInputError(
            f"{where}: not writable by this user; pass a path in a writable directory"
        )


def write_markdown(path: Path, text: str) -> None:
    """Write the Markdown summary, or raise GateInputError naming the option."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise GateInputError(
            f"--markdown {path}: cannot be written ({error.strerror})"
        ) from error


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preview_gate", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "preview", help="output of pulumi preview --json, or - for stdin"
    )
    parser.add_argument(
        "--stack", required=True, choices=STACKS, help="stack the preview is of"
    )
    parser.add_argument(
        "--allow-file",
        type=Path,
        default=None,
        help="allow file to read (default: guardrails/allowed-replacements.yaml)",
    )
    parser.add_argument(
        "--markdown", type=Path, help="also write a Markdown summary to this file"
    )
    return parser.parse_args(argv)


def _print_result(result: GateResult, strict: bool) -> None:
    for message in result.blocking:
        print(f"{'error' if strict else 'warning'}: {message}")
    for message in result.allowed:
        print(f"allowed: {message}")
    for message in result.notes:
        print(f"note: {message}")


def main(argv: Sequence[str] | None = None, *, today: date | None = None) -> int:
    """Run the gate and return its exit status: 0 pass, 1 blocked, 2 unreadable."""
    args = _parse_args(argv)
    today = today or datetime.now(UTC).date()
    allow_file: Path = args.allow_file or DEFAULT_ALLOW_FILE

    try:
        if args.allow_file is not None:
            check_allow_option(args.allow_file)
        if args.markdown is not None:
            check_markdown_option(args.markdown)
        text, source = _read_source(args.preview)
        preview = load_preview(text, source)
        check_stack(preview, args.stack, source)
        entries = load_allow_file(allow_file, today)
    except GateInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    result = evaluate(preview, args.stack, entries, today, allow_file)
    strict = args.stack in STRICT_STACKS
    _print_result(result, strict)
    if args.markdown is not None:
        try:
            write_markdown(args.markdown, render_markdown(preview, args.stack, result))
        except GateInputError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    return 1 if strict and result.blocking else 0


if __name__ == "__main__":
    sys.exit(main())
