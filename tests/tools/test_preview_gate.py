"""The destructive-change gate on `pulumi preview --json` output."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tools import preview_gate
from tools.mock_runtime import StackRun

TODAY = date(2026, 6, 1)
# Deeper than sys.getrecursionlimit() (1,000), so a recursive parser fails on it.
# PyYAML is slow to fail past the limit (its scanner is pure Python), so one case.
DEEP = 100_000
YAML_DEEP = 2_000
STATEFUL_TYPES = (
    "aws:dynamodb/table:Table",
    "aws:cognito/userPool:UserPool",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:backup/vault:Vault",
)
# Step op -> the operation an allow entry names for it.
DESTRUCTIVE_OPS = {
    "delete": "delete",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "import-replacement": "replace",
    "remove-pending-replace": "replace",
    "discard": "discard",
    "discard-replaced": "discard",
}
SAFE_OPS = ("same", "create", "update", "read", "refresh", "import")


def urn(stack: str, type_token: str = STATEFUL_TYPES[0], name: str = "") -> str:
    name = name or "data-journal-entries"
    return (
        f"urn:pulumi:{stack}::pfmon::pfmon:components:DataTables${type_token}::{name}"
    )


def step(op: str, resource_urn: str, **extra: Any) -> dict[str, Any]:
    return {"op": op, "urn": resource_urn, **extra}


def digest(stack: str, *steps: dict[str, Any]) -> dict[str, Any]:
    root = step(
        "same", f"urn:pulumi:{stack}::pfmon::pulumi:pulumi:Stack::pfmon-{stack}"
    )
    return {"steps": [root, *steps], "changeSummary": {"same": 1}}


def event_stream(*metadata: dict[str, Any], summary: bool = True) -> str:
    events: list[dict[str, Any]] = [{"sequence": 0, "preludeEvent": {"config": {}}}]
    events += [{"resourcePreEvent": {"metadata": item}} for item in metadata]
    if summary:
        events.append({"summaryEvent": {"resourceChanges": {"same": 1}}})
    return "\n".join(json.dumps(event) for event in events) + "\n"


def allow_file(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "allowed-replacements.yaml"
    path.write_text(json.dumps({"allowed": list(entries)}))  # JSON is valid YAML
    return path


def entry(
    resource_urn: str, operation: str = "replace", **extra: Any
) -> dict[str, Any]:
    values = {
        "urn": resource_urn,
        "operation": operation,
        "reason": "key schema change; items copied to the new table first",
        "expires": (TODAY + timedelta(days=14)).isoformat(),
    }
    return {**values, **extra}


def run_gate(
    tmp_path: Path,
    stack: str,
    preview: dict[str, Any] | str,
    capsys: pytest.CaptureFixture[str],
    *extra_args: str,
    allow: Path | None = None,
) -> tuple[int, str, str]:
    path = tmp_path / "preview.json"
    path.write_text(preview if isinstance(preview, str) else json.dumps(preview))
    allow = allow or tmp_path / "no-allow-file.yaml"
    args = ["--stack", stack, "--allow-file", str(allow), *extra_args, str(path)]
    if not allow.exists():
        allow.write_text("")
    code = preview_gate.main(args, today=TODAY)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- findings per operation and stack ----------------------------------------------


@pytest.mark.parametrize("stack", ["test", "prod"])
@pytest.mark.parametrize("op", sorted(DESTRUCTIVE_OPS))
def test_destructive_op_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str, op: str
) -> None:
    # GIVEN a preview with one destructive step on a table
    table = urn(stack)
    preview = digest(stack, step(op, table, replaceReasons=["hashKey"]))
    # WHEN the gate runs on a strict stack
    code, out, _ = run_gate(tmp_path, stack, preview, capsys)
    # THEN it fails with one line naming the URN, the operation and the fix
    lines = out.splitlines()
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {table}: {DESTRUCTIVE_OPS[op]} of the ")
    assert f"steps: {op}" in lines[0]
    assert "Fix: " in lines[0]


@pytest.mark.parametrize("stack", ["test", "prod"])
@pytest.mark.parametrize("op", sorted(DESTRUCTIVE_OPS))
def test_destructive_op_other_type_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str, op: str
) -> None:
    function = urn(stack, "aws:lambda/function:Function", "api-journal")
    code, out, _ = run_gate(tmp_path, stack, digest(stack, step(op, function)), capsys)
    assert code == 0
    assert out == ""


@pytest.mark.parametrize("stack", ["test", "prod"])
@pytest.mark.parametrize("op", SAFE_OPS)
def test_safe_op_on_table_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str, op: str
) -> None:
    code, out, _ = run_gate(
        tmp_path, stack, digest(stack, step(op, urn(stack))), capsys
    )
    assert code == 0
    assert out == ""


@pytest.mark.parametrize("type_token", STATEFUL_TYPES)
def test_every_stateful_type_guarded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], type_token: str
) -> None:
    resource = urn("prod", type_token, "stateful")
    code, out, _ = run_gate(
        tmp_path, "prod", digest("prod", step("delete", resource)), capsys
    )
    assert code == 1
    assert out.startswith(f"error: {resource}: delete of the ")


def test_replacement_is_one_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the three steps the engine emits for one create-before-delete replacement
    pool = urn("prod", "aws:cognito/userPool:UserPool", "auth-user-pool")
    reasons = {"replaceReasons": ["schemas"]}
    preview = digest(
        "prod",
        step("create-replacement", pool, **reasons),
        step("replace", pool, **reasons),
        step("delete-replaced", pool),
    )
    code, out, _ = run_gate(tmp_path, "prod", preview, capsys)
    # THEN the gate reports one replace finding that lists every step and the reason
    lines = out.splitlines()
    assert code == 1
    assert len(lines) == 1
    assert "steps: create-replacement, replace, delete-replaced;" in lines[0]
    assert "replaceReasons: schemas)" in lines[0]
    assert "every user account in it" in lines[0]


def test_unknown_op_fails_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = urn("prod")
    code, out, _ = run_gate(
        tmp_path, "prod", digest("prod", step("forget", table)), capsys
    )
    assert code == 1
    assert out.startswith(f"error: {table}: operation 'forget' on the DynamoDB table")


def test_type_from_state_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A digest step carries the type in oldState/newState as well as in the URN.
    resource = urn("prod", "aws:s3/bucketV2:BucketV2", "site-bucket")
    preview = digest(
        "prod", step("delete", resource, oldState={"type": "aws:s3/bucketV2:BucketV2"})
    )
    code, out, _ = run_gate(tmp_path, "prod", preview, capsys)
    assert code == 1
    assert "delete of the S3 bucket" in out


# --- dev ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(DESTRUCTIVE_OPS))
def test_dev_reports_warnings_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], op: str
) -> None:
    table = urn("dev")
    code, out, _ = run_gate(tmp_path, "dev", digest("dev", step(op, table)), capsys)
    assert code == 0
    assert out.startswith(f"warning: {table}: {DESTRUCTIVE_OPS[op]} of the ")


# --- allow file --------------------------------------------------------------------


def test_allow_entry_covers_one_urn_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two tables replaced and an entry for the first one's replacement
    first = urn("prod", name="data-journal-entries")
    second = urn("prod", name="data-account-data")
    preview = digest("prod", step("replace", first), step("replace", second))
    allow = allow_file(tmp_path, entry(first, "replace"))
    # WHEN the gate runs
    code, out, _ = run_gate(tmp_path, "prod", preview, capsys, allow=allow)
    # THEN only the second table blocks; the first is listed as allowed
    lines = out.splitlines()
    assert code == 1
    assert [line for line in lines if line.startswith("error:")] == [
        next(line for line in lines if line.startswith(f"error: {second}:"))
    ]
    assert any(line.startswith(f"allowed: {first}: replace") for line in lines)


def test_allow_entry_other_op_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An entry for `delete` does not cover a replacement of the same URN.
    table = urn("prod")
    allow = allow_file(tmp_path, entry(table, "delete"))
    code, out, _ = run_gate(
        tmp_path, "prod", digest("prod", step("replace", table)), capsys, allow=allow
    )
    assert code == 1
    assert out.startswith(f"error: {table}: replace of the DynamoDB table")
    assert "matches no step of this preview" in out


def test_allow_entry_passes_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = urn("test")
    allow = allow_file(tmp_path, entry(table, "delete"))
    code, out, _ = run_gate(
        tmp_path, "test", digest("test", step("delete", table)), capsys, allow=allow
    )
    assert code == 0
    assert out.startswith(f"allowed: {table}: delete of the DynamoDB table")
    assert "until 2026-06-15" in out


def test_allow_entry_other_stack_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An entry for the test stack's URN does not cover the same resource in prod.
    allow = allow_file(tmp_path, entry(urn("test"), "delete"))
    code, out, _ = run_gate(
        tmp_path,
        "prod",
        digest("prod", step("delete", urn("prod"))),
        capsys,
        allow=allow,
    )
    assert code == 1
    assert out.startswith(f"error: {urn('prod')}: delete")


def test_expired_entry_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an entry that would match but expired yesterday
    table = urn("prod")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    allow = allow_file(tmp_path, entry(table, "replace", expires=yesterday))
    code, out, _ = run_gate(
        tmp_path, "prod", digest("prod", step("replace", table)), capsys, allow=allow
    )
    # THEN both the replacement and the expired entry are errors
    assert code == 1
    assert f"error: {table}: replace of the DynamoDB table" in out
    assert f"allowed[0] ({table}, replace) expired on {yesterday}" in out


def test_expired_unused_entry_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expired = entry(urn("prod"), "delete", expires="2026-05-01")
    allow = allow_file(tmp_path, expired)
    code, out, _ = run_gate(tmp_path, "prod", digest("prod"), capsys, allow=allow)
    assert code == 1
    assert "expired on 2026-05-01" in out


def test_expired_entry_dev_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allow = allow_file(tmp_path, entry(urn("dev"), "delete", expires="2026-05-01"))
    code, out, _ = run_gate(tmp_path, "dev", digest("dev"), capsys, allow=allow)
    assert code == 0
    assert out.startswith("warning: ")
    assert "expired on 2026-05-01" in out


def test_entry_valid_on_expiry_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = urn("prod")
    allow = allow_file(tmp_path, entry(table, "delete", expires=TODAY.isoformat()))
    code, _, _ = run_gate(
        tmp_path, "prod", digest("prod", step("delete", table)), capsys, allow=allow
    )
    assert code == 0


@pytest.mark.parametrize(
    ("bad_entry", "message"),
    [
        ({"reason": None}, "allowed[0] is missing 'reason'; expected exactly"),
        ({"expiry": "2026-06-10"}, "allowed[0] has unknown keys 'expiry'; expected"),
        ({"operation": "create-replacement"}, "allowed[0].operation = "),
        ({"expires": "next week"}, "allowed[0].expires = 'next week' is invalid"),
        ({"expires": "2026-12-01"}, "is more than 90 days after 2026-06-01"),
        ({"reason": "  "}, "allowed[0].reason is blank; state why"),
        ({"urn": "data-journal-entries"}, "is not a Pulumi URN"),
        ({"urn": urn("prod", "aws:sns/topic:Topic")}, "which the gate does not guard"),
    ],
)
def test_malformed_entry_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad_entry: dict[str, Any],
    message: str,
) -> None:
    raw = {**entry(urn("prod"), "delete"), **bad_entry}
    raw = {key: value for key, value in raw.items() if value is not None}
    allow = allow_file(tmp_path, raw)
    code, out, err = run_gate(tmp_path, "prod", digest("prod"), capsys, allow=allow)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {allow}: allowed[0]")
    assert message in err


def test_duplicate_entry_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = urn("prod")
    allow = allow_file(tmp_path, entry(table, "delete"), entry(table, "delete"))
    code, _, err = run_gate(tmp_path, "prod", digest("prod"), capsys, allow=allow)
    assert code == 2
    assert "allowed[1] repeats allowed[0]" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allowed: [\n", "not valid YAML"),
        ("- urn: x\n", "expected a mapping with only the key 'allowed'"),
        ("allowed: {urn: x}\n", "'allowed' is invalid; expected a list"),
        (
            "allowed: " + "[" * YAML_DEEP + "]" * YAML_DEEP,
            "the YAML is nested too deeply to parse",
        ),
    ],
)
def test_malformed_allow_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text(text)
    code, _, err = run_gate(tmp_path, "prod", digest("prod"), capsys, allow=allow)
    assert code == 2
    assert err.startswith(f"error: {allow}: ")
    assert message in err


def test_yaml_date_accepted(tmp_path: Path) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "allowed:\n"
        f"  - urn: {urn('prod')}\n"
        "    operation: replace\n"
        "    reason: items copied to the new table first\n"
        "    expires: 2026-06-30\n"
    )
    entries = preview_gate.load_allow_file(allow, TODAY)
    assert entries[0].expires == date(2026, 6, 30)
    assert entries[0].operation == "replace"


def test_default_allow_file_missing_ok(tmp_path: Path) -> None:
    assert preview_gate.load_allow_file(tmp_path / "absent.yaml", TODAY) == []


def test_explicit_allow_file_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps(digest("prod")))
    missing = tmp_path / "absent.yaml"
    args = ["--stack", "prod", "--allow-file", str(missing), str(preview)]
    assert preview_gate.main(args, today=TODAY) == 2
    assert capsys.readouterr().err == (
        f"error: --allow-file {missing}: not found; expected a YAML file with an "
        "'allowed' list, such as guardrails/allowed-replacements.yaml, or leave out "
        "--allow-file to read the default\n"
    )


def test_allow_file_directory_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps(digest("prod")))
    args = ["--stack", "prod", "--allow-file", str(tmp_path), str(preview)]
    assert preview_gate.main(args, today=TODAY) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: --allow-file {tmp_path}: is a directory; expected a YAML file with "
        "an 'allowed' list, such as guardrails/allowed-replacements.yaml\n"
    )


# --- malformed preview input -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("error: no stack named 'prod' found", "not JSON (Expecting value at line 1)"),
        ("[1, 2]", "the JSON is a list, not an object"),
        ('{"config": {}}', "no 'steps' list (keys found: config)"),
        ('{"steps": [1]}', "steps[0] is not an object"),
        ('{"steps": [{"urn": "urn:pulumi:prod::p::t::n"}]}', "has no 'op' string"),
        ('{"steps": [{"op": "create"}]}', "has no 'urn' string"),
        ('{"steps": [{"op": "create", "urn": "table"}]}', "is not a Pulumi URN"),
        ("[" * DEEP, "the JSON is nested too deeply to parse"),
        ("[" * DEEP + "]" * DEEP, "the JSON is nested too deeply to parse"),
        ('{"steps": ' + "[" * DEEP, "the JSON is nested too deeply to parse"),
    ],
)
def test_malformed_preview_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    code, out, err = run_gate(tmp_path, "prod", text, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {tmp_path / 'preview.json'}")
    assert message in err
    assert "pulumi preview --json" in err or "urn:pulumi:" in err


def test_failed_preview_shows_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A preview that fails before any step still prints a digest with diagnostics.
    failed = {
        "diagnostics": [
            {"message": "pfmon:mfa = 'optional' is invalid", "severity": "error"},
            {"message": "downloading plugin", "severity": "info"},
        ]
    }
    code, _, err = run_gate(tmp_path, "prod", failed, capsys)
    assert code == 2
    assert "The preview reported: pfmon:mfa = 'optional' is invalid." in err
    assert "downloading plugin" not in err


def test_other_stack_preview_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_gate(tmp_path, "prod", digest("test"), capsys)
    assert code == 2
    assert "belongs to stack 'test', not 'prod'" in err


def test_missing_preview_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.json"
    args = ["--stack", "prod", "--allow-file", str(allow_file(tmp_path)), str(missing)]
    assert preview_gate.main(args, today=TODAY) == 2
    assert capsys.readouterr().err.startswith(f"error: {missing}: not found")


def test_unknown_stack_rejected() -> None:
    with pytest.raises(SystemExit) as caught:
        preview_gate.main(["--stack", "staging", "preview.json"], today=TODAY)
    assert caught.value.code == 2


# --- event stream ------------------------------------------------------------------


def test_event_stream_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = urn("prod", "aws:kms/key:Key", "data-credentials-key")
    stream = event_stream(
        {"op": "delete", "urn": key, "type": "aws:kms/key:Key", "detailedDiff": None}
    )
    code, out, _ = run_gate(tmp_path, "prod", stream, capsys)
    assert code == 1
    assert out.startswith(f"error: {key}: delete of the KMS key")


def test_event_stream_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = event_stream({"op": "update", "urn": urn("prod"), "diffs": ["tags"]})
    code, out, _ = run_gate(tmp_path, "prod", stream, capsys)
    assert code == 0
    assert out == ""


def test_event_stream_unfinished_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = event_stream({"op": "update", "urn": urn("prod")}, summary=False)
    code, _, err = run_gate(tmp_path, "prod", stream, capsys)
    assert code == 2
    assert "the event stream has no summaryEvent" in err


def test_event_stream_cancelled_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = event_stream() + json.dumps({"cancelEvent": {}}) + "\n"
    code, _, err = run_gate(tmp_path, "prod", stream, capsys)
    assert code == 2
    assert "line 3: the preview was cancelled" in err


def test_event_stream_bad_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = event_stream() + "warning: not an event\n"
    code, _, err = run_gate(tmp_path, "prod", stream, capsys)
    assert code == 2
    assert "line 3: not JSON" in err


def test_event_stream_deep_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a stream whose first event is valid, so the digest parse stops after it
    stream = event_stream() + "[" * DEEP + "\n"
    code, out, err = run_gate(tmp_path, "prod", stream, capsys)
    assert code == 2
    assert out == ""
    assert "line 3: the JSON is nested too deeply to parse" in err


def test_stdin_input(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = json.dumps(digest("prod", step("delete", urn("prod"))))
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    args = ["--stack", "prod", "--allow-file", str(allow_file(tmp_path)), "-"]
    assert preview_gate.main(args, today=TODAY) == 1
    assert capsys.readouterr().out.startswith(f"error: {urn('prod')}: delete")


# --- Markdown summary --------------------------------------------------------------


def test_markdown_lists_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a preview that updates a function and replaces a table
    function = urn("prod", "aws:lambda/function:Function", "api-journal")
    table = urn("prod")
    preview = digest(
        "prod",
        step(
            "update",
            function,
            detailedDiff={"memorySize": {"kind": "update", "inputDiff": True}},
        ),
        step("replace", table, replaceReasons=["hashKey"]),
    )
    summary = tmp_path / "summary.md"
    run_gate(tmp_path, "prod", preview, capsys, "--markdown", str(summary))
    lines = summary.read_text().splitlines()
    # THEN the summary names the verdict, the blocked change and one row per change
    assert lines[0] == "### `pulumi preview` of stack `prod`"
    assert (
        "Destructive-change gate: **failed**: 1 destructive change(s) blocked." in lines
    )
    assert any(line.startswith(f"- blocked: {table}: replace") for line in lines)
    assert "#### Changes (2)" in lines
    function_row = (
        "| update | `aws:lambda/function:Function` | `api-journal` "
        "| memorySize (update) |"
    )
    assert function_row in lines
    assert (
        "| replace | `aws:dynamodb/table:Table` | `data-journal-entries` | - |" in lines
    )
    assert "Change summary: same 1." in lines


def test_markdown_passed_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    run_gate(tmp_path, "test", digest("test"), capsys, "--markdown", str(summary))
    text = summary.read_text()
    assert "Destructive-change gate: **passed**." in text
    assert "No resource changes." in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_markdown_missing_dir_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    # GIVEN a clean preview and a --markdown path in a directory that does not exist
    summary = tmp_path / "absent" / "summary.md"
    code, out, err = run_gate(
        tmp_path, stack, digest(stack), capsys, "--markdown", str(summary)
    )
    # THEN the gate stops before evaluating, with one line naming option and path
    assert code == 2
    assert out == ""
    assert err == (
        f"error: --markdown {summary}: directory {summary.parent} does not exist; "
        "create it first or pass a path in an existing directory\n"
    )
    assert not summary.parent.exists()


def test_markdown_parent_is_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = tmp_path / "notes.txt"
    parent.write_text("")
    summary = parent / "summary.md"
    code, _, err = run_gate(
        tmp_path, "prod", digest("prod"), capsys, "--markdown", str(summary)
    )
    assert code == 2
    assert err == (
        f"error: --markdown {summary}: {parent} is not a directory; pass a path in "
        "an existing directory\n"
    )


def test_markdown_directory_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_gate(
        tmp_path, "prod", digest("prod"), capsys, "--markdown", str(tmp_path)
    )
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: --markdown {tmp_path}: is a directory; ")


def test_markdown_checked_before_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a preview that would block, and a --markdown path that cannot be written
    summary = tmp_path / "absent" / "summary.md"
    preview = digest("prod", step("delete", urn("prod")))
    code, out, err = run_gate(
        tmp_path, "prod", preview, capsys, "--markdown", str(summary)
    )
    # THEN no finding is printed: the option error comes first
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: --markdown {summary}: ")


def test_markdown_write_failure_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a disk that fills up after the up-front check passed
    summary = tmp_path / "summary.md"
    real_write_text = Path.write_text

    def write_text(path: Path, text: str, *args: Any, **kwargs: Any) -> int:
        if path == summary:
            raise OSError(28, "No space left on device")
        return real_write_text(path, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    code, out, err = run_gate(
        tmp_path, "prod", digest("prod"), capsys, "--markdown", str(summary)
    )
    assert code == 2
    assert out == ""
    assert err == (
        f"error: --markdown {summary}: cannot be written (No space left on device)\n"
    )


# --- the program's own stateful resources ------------------------------------------


def test_program_protected_types_guarded(stack_runs: dict[str, StackRun]) -> None:
    # Every resource prod protects from deletion is one the gate guards.
    protected = {r.type for r in stack_runs["prod"].resources if r.protect and r.custom}
    assert protected
    assert protected <= set(preview_gate.GUARDED_TYPES)


def test_program_site_bucket_token(stack_runs: dict[str, StackRun]) -> None:
    # pulumi-aws 7 registers aws.s3.Bucket as aws:s3/bucket:Bucket.
    bucket = stack_runs["prod"].one("aws:s3/bucket:Bucket")
    assert bucket.type in preview_gate.GUARDED_TYPES


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_program_replacements_all_blocked(
    stack: str, stack_runs: dict[str, StackRun]
) -> None:
    # GIVEN a preview replacing every stateful resource the program creates
    run = stack_runs[stack]
    stateful = [r.urn for r in run.resources if r.type in STATEFUL_TYPES]
    preview = preview_gate.load_preview(
        json.dumps(digest(stack, *(step("replace", u) for u in stateful))), "fixture"
    )
    # THEN the gate blocks each of them once
    result = preview_gate.evaluate(preview, stack, [], TODAY, Path("allow.yaml"))
    assert len(result.blocking) == len(stateful)
    for resource_urn in stateful:
        assert any(
            line.startswith(f"{resource_urn}: replace") for line in result.blocking
        )
