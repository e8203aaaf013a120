"""Re-encryption of credential data keys with moto KMS, alone and within a copy."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest

from pfmon_api.logic.credentials import encryption_context
from tests.tools.migrate.helpers import scan_all, seed
from tools.migrate.cli import main
from tools.migrate.credentials import (
    CREDENTIAL_ENVELOPE,
    check_key_arn,
    describe_target_key,
    reencrypt_credential,
)
from tools.migrate.credentials import encryption_context as credential_context
from tools.migrate.errors import CredentialEnvelopeError, UsageError
from tools.migrate.sample_data import sample_tables


@pytest.fixture
def keys(kms: Any) -> tuple[str, str]:
    """Create the test and prod credentials keys; return their ARNs."""
    source = kms.create_key(Description="pfmon-test credentials")["KeyMetadata"]
    target = kms.create_key(Description="pfmon-prod credentials")["KeyMetadata"]
    return source["Arn"], target["Arn"]


def _context(item: dict[str, Any]) -> dict[str, str]:
    return encryption_context(item["userId"]["S"], item["credentialId"]["S"])


def _credentials(
    kms: Any, key_arn: str, count: int
) -> tuple[list[Any], dict[str, bytes]]:
    """Build credential items whose data keys KMS encrypted under `key_arn`.

    Returns the items and the plaintext data key of each credentialId.
    """
    plaintexts: dict[str, bytes] = {}

    def data_key(user_id: str, credential_id: str) -> tuple[bytes, str]:
        context = encryption_context(user_id, credential_id)
        response = kms.generate_data_key(
            KeyId=key_arn, KeySpec="AES_256", EncryptionContext=context
        )
        plaintexts[credential_id] = response["Plaintext"]
        return response["CiphertextBlob"], response["KeyId"]

    items = sample_tables({"UserCredentials": count}, data_key=data_key)
    return items["UserCredentials"], plaintexts


def _decrypt(kms: Any, item: dict[str, Any]) -> tuple[bytes, str]:
    response = kms.decrypt(
        CiphertextBlob=item["encryptedDataKey"]["B"],
        EncryptionContext=_context(item),
    )
    return response["Plaintext"], response["KeyId"]


def test_reencrypt_moves_data_key(kms: Any, keys: tuple[str, str]) -> None:
    source_arn, target_arn = keys
    # GIVEN a credential whose data key the source key encrypted
    (item,), plaintexts = _credentials(kms, source_arn, 1)
    # WHEN it is re-encrypted for the target key
    moved = reencrypt_credential(kms, item, target_arn)
    # THEN the target key decrypts the same data key, and the item names that key
    plaintext, key_id = _decrypt(kms, moved)
    assert plaintext == plaintexts[item["credentialId"]["S"]]
    assert key_id == target_arn
    assert moved["keyArn"] == {"S": target_arn}
    assert moved["encryptedDataKey"] != item["encryptedDataKey"]
    # AND the encrypted secret fields and every other attribute stay as they were
    unchanged = set(item) - {"encryptedDataKey", "keyArn"}
    assert {name: moved[name] for name in unchanged} == {
        name: item[name] for name in unchanged
    }


def test_reencrypt_keeps_base64_form(kms: Any, keys: tuple[str, str]) -> None:
    # GIVEN a data key stored as base64 text instead of binary
    source_arn, target_arn = keys
    (item,), plaintexts = _credentials(kms, source_arn, 1)
    text = base64.b64encode(item["encryptedDataKey"]["B"]).decode()
    # WHEN it is re-encrypted, THEN it stays base64 text that the target key decrypts
    moved = reencrypt_credential(
        kms, {**item, "encryptedDataKey": {"S": text}}, target_arn
    )
    blob = base64.b64decode(moved["encryptedDataKey"]["S"])
    response = kms.decrypt(CiphertextBlob=blob, EncryptionContext=_context(item))
    assert response["Plaintext"] == plaintexts[item["credentialId"]["S"]]
    assert moved["keyArn"] == {"S": target_arn}


def test_context_matches_credentials_function() -> None:
    # The credentials function encrypts each data key under this context; a copy
    # re-encrypts it under the same one, so the two must agree.
    item = {"userId": {"S": "user-1"}, "credentialId": {"S": "cred-1"}}
    assert credential_context(item, CREDENTIAL_ENVELOPE) == encryption_context(
        "user-1", "cred-1"
    )


def test_reencrypt_rejects_wrong_key_arn(kms: Any, keys: tuple[str, str]) -> None:
    # GIVEN an item that names the target key although the source key encrypted it
    source_arn, target_arn = keys
    (item,), _ = _credentials(kms, source_arn, 1)
    lying = {**item, "keyArn": {"S": target_arn}}
    # WHEN it is re-encrypted
    with pytest.raises(CredentialEnvelopeError) as raised:
        reencrypt_credential(kms, lying, target_arn)
    # THEN the error names both keys
    assert target_arn in str(raised.value)
    assert source_arn in str(raised.value)


def test_reencrypt_rejects_moved_item(kms: Any, keys: tuple[str, str]) -> None:
    # GIVEN a data key copied into another credential's item: its context differs
    source_arn, target_arn = keys
    (item,), _ = _credentials(kms, source_arn, 1)
    moved = {**item, "credentialId": {"S": "another-credential"}}
    # WHEN it is re-encrypted, KMS rejects the context
    with pytest.raises(CredentialEnvelopeError, match="ReEncrypt failed"):
        reencrypt_credential(kms, moved, target_arn)


def test_reencrypt_rejects_missing_data_key(kms: Any, keys: tuple[str, str]) -> None:
    item = {"userId": {"S": "u-1"}, "credentialId": {"S": "c-1"}}
    with pytest.raises(CredentialEnvelopeError, match="has no encryptedDataKey"):
        reencrypt_credential(kms, item, keys[1])


def test_disabled_target_key_rejected(kms: Any, keys: tuple[str, str]) -> None:
    kms.disable_key(KeyId=keys[1].split("/")[-1])
    with pytest.raises(CredentialEnvelopeError, match="is Disabled, not Enabled"):
        describe_target_key(kms, keys[1])


def test_key_arn_forms() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alias = "arn:aws:kms:eu-west-1:123456789012:alias/pfmon-prod-credentials"
    assert check_key_arn(key) == key
    assert check_key_arn(alias) == alias
    with pytest.raises(UsageError, match="is not a KMS key ARN"):
        check_key_arn("alias/pfmon-prod-credentials")


def test_copy_reencrypts_credentials(
    tables_created: Any, kms: Any, keys: tuple[str, str], tmp_path: Path
) -> None:
    source_arn, target_arn = keys
    # GIVEN test credentials encrypted under the test key
    items, plaintexts = _credentials(kms, source_arn, 6)
    seed(tables_created, "test", {"UserCredentials": items})

    # WHEN the command line copies them with re-encryption for the prod key
    err = io.StringIO()
    status = main(
        [
            "copy",
            "--source-env=test",
            "--target-env=prod",
            "--tables=UserCredentials",
            "--reencrypt-credentials",
            f"--target-key-arn={target_arn}",
            f"--checkpoint={tmp_path / 'run.json'}",
        ],
        io.StringIO(),
        err,
    )
    assert status == 0, err.getvalue()

    # THEN every prod credential's data key decrypts under the prod key
    copied = scan_all(tables_created, "pfmon-prod-UserCredentials")
    assert len(copied) == 6
    for item in copied:
        plaintext, key_id = _decrypt(kms, item)
        assert key_id == target_arn
        assert plaintext == plaintexts[item["credentialId"]["S"]]

    # AND verify reports differences unless --reencrypted-credentials is set
    verify = [
        "verify",
        "--source-env=test",
        "--target-env=prod",
        "--tables=UserCredentials",
    ]
    assert main(verify, io.StringIO(), io.StringIO()) == 1
    out = io.StringIO()
    assert main([*verify, "--reencrypted-credentials"], out, io.StringIO()) == 0
    assert "UserCredentials: equal, 6 items" in out.getvalue()
