"""KMS envelope encryption with AES-256-GCM, against moto's KMS."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from pfmon_api import envelope, errors
from tests.functions.conftest import REGION

CONTEXT = {"userId": "user-1", "credentialId": "cred-1", "purpose": "unit-test"}
PLAINTEXTS = {"apiKey": "AKEXAMPLEKEY0000WXYZ", "apiSecret": "s3cret/Value+with=ü€"}
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


@pytest.fixture(scope="module")
def module_key_arn(aws_credentials: None) -> Iterator[str]:
    """Create one KMS key per module, because moto makes an RSA key pair for each."""
    with mock_aws():
        envelope.kms_client.cache_clear()
        kms = boto3.client("kms", region_name=REGION)
        metadata = kms.create_key(Description="unit envelope key")["KeyMetadata"]
        yield metadata["Arn"]
    envelope.kms_client.cache_clear()


@pytest.fixture
def key_arn(module_key_arn: str) -> str:
    """Return the ARN of the moto KMS key."""
    return module_key_arn


class KmsHooks:
    """Event hooks on envelope's KMS client that record or fail requests."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, Callable[..., Any]]] = []

    def record_calls(self, operation: str) -> list[dict[str, Any]]:
        """Record the parameters of every `operation` call."""
        calls: list[dict[str, Any]] = []

        def record(params: dict[str, Any], **_kwargs: Any) -> None:
            calls.append(dict(params))

        self._register(f"provide-client-params.kms.{operation}", record)
        return calls

    def fail(self, operation: str, code: str) -> None:
        """Make every `operation` call fail with the AWS error `code`."""

        def reject(**_kwargs: Any) -> tuple[Any, dict[str, Any]]:
            response = {
                "Error": {"Code": code, "Message": f"unit test {code}"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return SimpleNamespace(status_code=400, headers={}), response

        self._register(f"before-call.kms.{operation}", reject)

    def remove_all(self) -> None:
        events = envelope.kms_client().meta.events
        for event_name, handler in self.registered:
            events.unregister(event_name, handler)
        self.registered.clear()

    def _register(self, event_name: str, handler: Callable[..., Any]) -> None:
        envelope.kms_client().meta.events.register(event_name, handler)
        self.registered.append((event_name, handler))


@pytest.fixture
def kms_hooks(key_arn: str) -> Iterator[KmsHooks]:
    hooks = KmsHooks()
    yield hooks
    hooks.remove_all()


def flip_bit(data: bytes, index: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def with_field(
    sealed: envelope.Envelope, name: str, **changes: bytes
) -> envelope.Envelope:
    fields = dict(sealed.fields)
    fields[name] = dataclasses.replace(fields[name], **changes)
    return dataclasses.replace(sealed, fields=fields)


class TestRoundTrip:
    def test_decrypt_returns_plaintexts(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert envelope.decrypt_fields(sealed, CONTEXT) == PLAINTEXTS

    def test_envelope_shape(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert sealed.algorithm == "kms-envelope-aes-256-gcm-v1"
        assert sealed.key_arn == key_arn
        assert sealed.encrypted_data_key
        assert set(sealed.fields) == set(PLAINTEXTS)
        for name, text in PLAINTEXTS.items():
            field = sealed.fields[name]
            assert len(field.nonce) == 12, name
            # GCM ciphertext has the plaintext's length plus a 16-byte tag.
            assert len(field.ciphertext) == len(text.encode()) + 16, name
            assert text.encode() not in field.ciphertext, name

    def test_nonces_differ_per_field(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        nonces = {field.nonce for field in sealed.fields.values()}
        assert len(nonces) == len(PLAINTEXTS)

    def test_same_input_new_ciphertext(self, key_arn: str) -> None:
        first = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        second = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert first.encrypted_data_key != second.encrypted_data_key
        assert first.fields["apiKey"].nonce != second.fields["apiKey"].nonce

    def test_alias_stores_key_arn(self, key_arn: str) -> None:
        alias = f"alias/unit-{uuid.uuid4()}"
        boto3.client("kms").create_alias(AliasName=alias, TargetKeyId=key_arn)

        sealed = envelope.encrypt_fields(alias, CONTEXT, PLAINTEXTS)

        assert sealed.key_arn == key_arn
        assert envelope.decrypt_fields(sealed, CONTEXT) == PLAINTEXTS

    def test_generate_data_key_request(self, key_arn: str, kms_hooks: KmsHooks) -> None:
        calls = kms_hooks.record_calls("GenerateDataKey")

        envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert calls == [
            {"KeyId": key_arn, "KeySpec": "AES_256", "EncryptionContext": CONTEXT}
        ]

    def test_decrypt_request(self, key_arn: str, kms_hooks: KmsHooks) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        calls = kms_hooks.record_calls("Decrypt")

        envelope.decrypt_fields(sealed, CONTEXT)

        assert calls == [
            {
                "CiphertextBlob": sealed.encrypted_data_key,
                "KeyId": key_arn,
                "EncryptionContext": CONTEXT,
            }
        ]

    def test_empty_context_rejected(self, key_arn: str) -> None:
        with pytest.raises(ValueError, match="encryption context is empty"):
            envelope.encrypt_fields(key_arn, {}, PLAINTEXTS)


class TestDecryptFailures:
    @pytest.mark.parametrize(
        "context",
        [
            {**CONTEXT, "userId": "user-2"},
            {**CONTEXT, "credentialId": "cred-2"},
            {**CONTEXT, "purpose": "other"},
            {**CONTEXT, "extra": "x"},
            {"userId": "user-1", "credentialId": "cred-1"},
        ],
    )
    def test_wrong_context_fails(self, key_arn: str, context: dict[str, str]) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        with pytest.raises(envelope.DecryptionError):
            envelope.decrypt_fields(sealed, context)

    def test_tampered_ciphertext_fails(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        ciphertext = sealed.fields["apiSecret"].ciphertext
        tampered = with_field(sealed, "apiSecret", ciphertext=flip_bit(ciphertext))

        with pytest.raises(envelope.DecryptionError, match="apiSecret"):
            envelope.decrypt_fields(tampered, CONTEXT)

    def test_tampered_tag_fails(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        ciphertext = sealed.fields["apiKey"].ciphertext
        tampered = with_field(
            sealed, "apiKey", ciphertext=flip_bit(ciphertext, len(ciphertext) - 1)
        )

        with pytest.raises(envelope.DecryptionError):
            envelope.decrypt_fields(tampered, CONTEXT)

    def test_tampered_nonce_fails(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        nonce = sealed.fields["apiKey"].nonce
        tampered = with_field(sealed, "apiKey", nonce=flip_bit(nonce))

        with pytest.raises(envelope.DecryptionError):
            envelope.decrypt_fields(tampered, CONTEXT)

    def test_short_nonce_fails(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        tampered = with_field(sealed, "apiKey", nonce=b"\x00" * 8)

        with pytest.raises(envelope.DecryptionError, match="8-byte nonce"):
            envelope.decrypt_fields(tampered, CONTEXT)

    def test_tampered_data_key_fails(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        blob = sealed.encrypted_data_key
        tampered = dataclasses.replace(
            sealed, encrypted_data_key=flip_bit(blob, len(blob) - 1)
        )

        with pytest.raises(envelope.DecryptionError):
            envelope.decrypt_fields(tampered, CONTEXT)

    def test_swapped_fields_fail(self, key_arn: str) -> None:
        # GIVEN the key's ciphertext and nonce moved into the secret's place
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        swapped = dataclasses.replace(
            sealed,
            fields={
                "apiKey": sealed.fields["apiKey"],
                "apiSecret": sealed.fields["apiKey"],
            },
        )

        # THEN the field name in the AAD rejects it
        with pytest.raises(envelope.DecryptionError, match="apiSecret"):
            envelope.decrypt_fields(swapped, CONTEXT)

    def test_unknown_algorithm_fails(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        future = dataclasses.replace(sealed, algorithm="kms-envelope-v9")

        with pytest.raises(envelope.DecryptionError, match="kms-envelope-v9"):
            envelope.decrypt_fields(future, CONTEXT)

    def test_errors_name_no_plaintext(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        tampered = with_field(
            sealed, "apiKey", nonce=flip_bit(sealed.fields["apiKey"].nonce)
        )

        with pytest.raises(envelope.DecryptionError) as caught:
            envelope.decrypt_fields(tampered, CONTEXT)

        for text in PLAINTEXTS.values():
            assert text not in str(caught.value)


class TestAdditionalData:
    def test_field_name_changes_aad(self) -> None:
        key_aad = envelope.additional_data(CONTEXT, "apiKey")
        secret_aad = envelope.additional_data(CONTEXT, "apiSecret")

        assert key_aad != secret_aad

    def test_aad_ignores_context_order(self) -> None:
        reordered = dict(reversed(list(CONTEXT.items())))

        assert envelope.additional_data(reordered, "apiKey") == (
            envelope.additional_data(CONTEXT, "apiKey")
        )

    def test_aad_is_canonical_json(self) -> None:
        aad = envelope.additional_data({"userId": "u", "credentialId": "c"}, "apiKey")

        assert aad == b'{"context":{"credentialId":"c","userId":"u"},"field":"apiKey"}'

    def test_context_in_aad_binds(self) -> None:
        # GIVEN a field sealed under one context with a known data key
        data_key = bytearray(os.urandom(32))
        sealed = envelope.seal(data_key, CONTEXT, "apiKey", "value-1234")

        # THEN the same key under another user's context rejects it
        other = {**CONTEXT, "userId": "user-2"}
        with pytest.raises(envelope.DecryptionError):
            envelope.open_sealed(data_key, other, "apiKey", sealed)

    @settings(max_examples=50, deadline=None)
    @given(text=st.text(max_size=300), name=st.sampled_from(["apiKey", "apiSecret"]))
    def test_seal_open_round_trip(self, text: str, name: str) -> None:
        data_key = bytearray(os.urandom(32))

        sealed = envelope.seal(data_key, CONTEXT, name, text)

        assert envelope.open_sealed(data_key, CONTEXT, name, sealed) == text


class TestKeyServiceFailures:
    @pytest.mark.parametrize(
        "code",
        ["DisabledException", "KMSInvalidStateException", "AccessDeniedException"],
    )
    def test_key_fault_is_internal(
        self, key_arn: str, code: str, kms_hooks: KmsHooks
    ) -> None:
        kms_hooks.fail("GenerateDataKey", code)

        with pytest.raises(envelope.KeyServiceError) as caught:
            envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert caught.value.error_code == code
        assert caught.value.operation == "GenerateDataKey"
        assert caught.value.status == 500

    @pytest.mark.parametrize(
        "code",
        ["ThrottlingException", "KMSInternalException", "DependencyTimeoutException"],
    )
    def test_transient_fault_is_503(
        self, key_arn: str, code: str, kms_hooks: KmsHooks
    ) -> None:
        kms_hooks.fail("GenerateDataKey", code)

        with pytest.raises(errors.ServiceUnavailableError):
            envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

    def test_unknown_key_is_internal(self, key_arn: str) -> None:
        missing = key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"

        with pytest.raises(envelope.KeyServiceError) as caught:
            envelope.encrypt_fields(missing, CONTEXT, PLAINTEXTS)

        assert caught.value.error_code == "NotFoundException"

    def test_disabled_key_on_decrypt(self, key_arn: str, kms_hooks: KmsHooks) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        kms_hooks.fail("Decrypt", "DisabledException")

        with pytest.raises(envelope.KeyServiceError) as caught:
            envelope.decrypt_fields(sealed, CONTEXT)

        assert caught.value.operation == "Decrypt"

    def test_incorrect_key_on_decrypt(self, key_arn: str, kms_hooks: KmsHooks) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        kms_hooks.fail("Decrypt", "IncorrectKeyException")

        with pytest.raises(envelope.DecryptionError, match="IncorrectKeyException"):
            envelope.decrypt_fields(sealed, CONTEXT)


class TestPlaintextHandling:
    def capture_keys(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> tuple[list[bytearray], list[bytes]]:
        """Record each data key buffer given to AES-GCM, and its bytes at that time."""
        buffers: list[bytearray] = []
        snapshots: list[bytes] = []
        real_aes_gcm: Callable[[bytearray], Any] = envelope._aes_gcm

        def spy(data_key: bytearray) -> Any:
            buffers.append(data_key)
            snapshots.append(bytes(data_key))
            return real_aes_gcm(data_key)

        monkeypatch.setattr(envelope, "_aes_gcm", spy)
        return buffers, snapshots

    def test_data_key_wiped_after_encrypt(
        self, key_arn: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        buffers, snapshots = self.capture_keys(monkeypatch)

        envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert len(buffers) == len(PLAINTEXTS)
        assert all(snapshot != bytes(32) for snapshot in snapshots)
        assert all(buffer == bytearray(32) for buffer in buffers)

    def test_data_key_wiped_after_decrypt(
        self, key_arn: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)
        buffers, snapshots = self.capture_keys(monkeypatch)

        envelope.decrypt_fields(sealed, CONTEXT)

        assert len(buffers) == len(PLAINTEXTS)
        assert all(snapshot != bytes(32) for snapshot in snapshots)
        assert all(buffer == bytearray(32) for buffer in buffers)

    def test_repr_hides_ciphertext(self, key_arn: str) -> None:
        sealed = envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)

        assert repr(sealed.encrypted_data_key) not in repr(sealed)
        assert "nonce" not in repr(sealed)

    def test_missing_cryptography_is_config_error(
        self, key_arn: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A None entry in sys.modules makes the import raise ImportError.
        module = "cryptography.hazmat.primitives.ciphers.aead"
        monkeypatch.setitem(sys.modules, module, None)

        with pytest.raises(errors.ConfigurationError, match="cryptography"):
            envelope.encrypt_fields(key_arn, CONTEXT, PLAINTEXTS)


def test_handlers_load_no_cryptography() -> None:
    # GIVEN a fresh interpreter that imports every handler module
    script = (
        "import sys\n"
        "import pfmon_api.handlers.accounts, pfmon_api.handlers.credentials\n"
        "import pfmon_api.handlers.entries, pfmon_api.handlers.post_confirmation\n"
        "import pfmon_api.handlers.profile, pfmon_api.handlers.statistics\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cryptography'))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(FUNCTIONS_DIR),
        "AWS_DEFAULT_REGION": REGION,
    }

    # WHEN it runs
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    # THEN no handler imported cryptography
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
