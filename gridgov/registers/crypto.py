"""Encryption at rest for personal identifiers (ID numbers, phone numbers).

* Values are sealed with AES-256-GCM. The key is derived (HKDF-SHA256) from the setting
  `GRIDGOV_DATA_KEY`; the stored token is ``g1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>`` and the
  column name is bound in as associated data, so a ciphertext copied into another column does not
  decrypt.
* Exact lookup and uniqueness use a keyed hash (HMAC-SHA256, a second key derived from the same
  secret) stored beside the ciphertext: the database can answer "is this ID registered?" without
  ever holding a reversible form that a leaked dump would expose.
* Rotation: set the new secret as `GRIDGOV_DATA_KEY`, list the old one in
  `GRIDGOV_DATA_KEYS_PREVIOUS`, run ``manage.py rotate_data_key``. Tokens name their key, so rows
  still under an old key keep decrypting until the command has re-sealed them, and lookups try the
  hashes of every configured key meanwhile.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

TOKEN_PREFIX = "g1"
_SALT = b"gridgov.registers.v1"


class DecryptionFailed(Exception):
    """A token no configured key opens: a wrong or missing key, or a tampered value."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    aead: AESGCM
    mac_key: bytes


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret.encode())


@functools.lru_cache(maxsize=8)
def _keyring(current: str, previous: tuple[str, ...]) -> tuple[DataKey, dict[str, DataKey]]:
    keys: dict[str, DataKey] = {}
    ordered: list[DataKey] = []
    for secret in (current, *previous):
        if not secret:
            continue
        enc = _derive(secret, b"encrypt")
        key_id = hashlib.sha256(_derive(secret, b"key-id")).hexdigest()[:8]
        key = DataKey(key_id=key_id, aead=AESGCM(enc), mac_key=_derive(secret, b"lookup-hash"))
        keys.setdefault(key_id, key)
        ordered.append(key)
    if not ordered:
        raise RuntimeError("GRIDGOV_DATA_KEY is empty: personal data cannot be encrypted")
    return ordered[0], keys


def keyring() -> tuple[DataKey, dict[str, DataKey]]:
    return _keyring(str(settings.GRIDGOV_DATA_KEY), tuple(settings.GRIDGOV_DATA_KEYS_PREVIOUS))


def current_key_id() -> str:
    return keyring()[0].key_id


def encrypt(value: str, *, context: str) -> str:
    if not value:
        return ""
    key = keyring()[0]
    nonce = os.urandom(12)
    sealed = key.aead.encrypt(nonce, value.encode(), context.encode())
    return f"{TOKEN_PREFIX}.{key.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    if not token:
        return ""
    try:
        prefix, key_id, body = token.split(".", 2)
    except ValueError:
        raise DecryptionFailed("not a gridgov token") from None
    key = keyring()[1].get(key_id)
    if prefix != TOKEN_PREFIX or key is None:
        raise DecryptionFailed(f"no configured key {key_id!r}")
    raw = base64.urlsafe_b64decode(body.encode())
    try:
        return key.aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
    except InvalidTag:
        raise DecryptionFailed("ciphertext does not verify") from None


def token_key_id(token: str) -> str:
    parts = token.split(".", 2)
    return parts[1] if len(parts) == 3 else ""


def lookup_hash(value: str, *, kind: str) -> str:
    """The keyed hash under the current key ('' for an empty value)."""
    if not value:
        return ""
    return hmac.new(keyring()[0].mac_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def lookup_hashes(value: str, *, kind: str) -> list[str]:
    """Hashes under every configured key, for lookups during a rotation."""
    if not value:
        return []
    current, keys = keyring()
    ordered = [current, *[k for k in keys.values() if k.key_id != current.key_id]]
    return [hmac.new(k.mac_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest() for k in ordered]


class BatchSealer:
    """Seal and hash many values under one key without re-reading settings per value (bulk
    loaders and the rotation command)."""

    def __init__(self) -> None:
        self.key, keys = keyring()
        self.previous = [k for k in keys.values() if k.key_id != self.key.key_id]

    def encrypt(self, value: str, *, context: str) -> str:
        if not value:
            return ""
        nonce = os.urandom(12)
        sealed = self.key.aead.encrypt(nonce, value.encode(), context.encode())
        return f"{TOKEN_PREFIX}.{self.key.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def hash(self, value: str, *, kind: str) -> str:
        if not value:
            return ""
        # hmac.digest: OpenSSL's one-shot HMAC, the same value as hmac.new(...) several times faster.
        return hmac.digest(self.key.mac_key, f"{kind}:{value}".encode(), "sha256").hex()

    def old_hashes(self, value: str, *, kind: str) -> list[str]:
        """Hashes under the previous keys (a rotation in progress; usually none), for lookups."""
        if not value:
            return []
        message = f"{kind}:{value}".encode()
        return [hmac.digest(k.mac_key, message, "sha256").hex() for k in self.previous]


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Holds plaintext on the model instance and an AES-GCM token in the column.

    Only `isnull` lookups make sense on ciphertext (every seal uses a fresh nonce); anything else
    raises, so nobody writes `filter(id_number=…)` and silently matches nothing — use the hash.
    """

    def __init__(self, *args: Any, hash_field: str = "", hash_kind: str = "", **kwargs: Any) -> None:
        self.hash_field = hash_field
        self.hash_kind = hash_kind
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
            kwargs["hash_kind"] = self.hash_kind
        return name, path, args, kwargs

    @property
    def context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        return decrypt(value, context=self.context) if value else ""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return ""
        return encrypt(str(value), context=self.context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise TypeError(f"{self.context} is encrypted; look it up through its keyed hash column")
        return super().get_lookup(lookup_name)


def encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    from django.apps import apps

    out = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            out.append((model, fields))
    return out
