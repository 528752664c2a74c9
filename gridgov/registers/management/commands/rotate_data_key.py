"""Re-seal every encrypted value under the current GRIDGOV_DATA_KEY, in one transaction.

Deploy with the new secret in GRIDGOV_DATA_KEY and the old one in GRIDGOV_DATA_KEYS_PREVIOUS
(tokens name their key, so both keep working meanwhile), run this command, then drop the old
secret. Lookup hashes are recomputed under the new key in the same UPDATE. Either every row is
re-sealed or — on any failure, e.g. a row no configured key opens — none is.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from gridgov.common.audit import audit_record
from gridgov.registers import crypto

CHUNK = 5000


class Command(BaseCommand):
    help = "用当前 GRIDGOV_DATA_KEY 重新加密全部个人敏感数据（证件号码、电话），并重算检索哈希；单一事务。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="只统计各密钥下的记录数，不修改")

    def handle(self, *args: Any, **options: Any) -> None:
        current = crypto.current_key_id()
        if options["check"]:
            for model, fields in crypto.encrypted_fields():
                for field in fields:
                    counts = Counter(crypto.token_key_id(t) for t in self._raw(model, field.column))
                    shown = ", ".join(f"{k or '(empty)'}: {n}" for k, n in sorted(counts.items()))
                    self.stdout.write(f"{model._meta.label}.{field.name}: {shown or 'no rows'} (current {current})")
            return
        total = 0
        try:
            with transaction.atomic():
                for model, fields in crypto.encrypted_fields():
                    total += self._rotate(model, fields)
                audit_record(actor=None, action="registers.data_key_rotated", detail={"rows": total, "key_id": current})
        except crypto.DecryptionFailed as exc:
            raise CommandError(f"有记录无法用已配置的密钥解密，未做任何修改：{exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"re-sealed {total} rows under key {current}"))

    def _raw(self, model: Any, column: str) -> list[str]:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {qn(column)} FROM {qn(model._meta.db_table)} WHERE {qn(column)} <> ''")
            return [row[0] for row in cursor.fetchall()]

    def _rotate(self, model: Any, fields: list[crypto.EncryptedTextField]) -> int:
        sealer = crypto.BatchSealer()
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        pk = qn(model._meta.pk.column)
        sets = []
        for f in fields:
            sets.append(f"{qn(f.column)} = %s")
            if f.hash_field:
                sets.append(f"{qn(model._meta.get_field(f.hash_field).column)} = %s")
        sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s"
        names = [f.attname for f in fields]
        done = 0
        # Keyset pagination on the primary key, plaintext decrypted by the field itself.
        last = 0
        while True:
            rows = list(model._default_manager.filter(pk__gt=last).order_by("pk").values_list("pk", *names)[:CHUNK])
            if not rows:
                break
            params = []
            for pk_value, *values in rows:
                row: list[Any] = []
                for f, value in zip(fields, values, strict=True):
                    row.append(sealer.encrypt(value, context=f.context))
                    if f.hash_field:
                        row.append(sealer.hash(value, kind=f.hash_kind))
                params.append((*row, pk_value))
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
            done += len(rows)
            last = rows[-1][0]
        self.stdout.write(f"{model._meta.label}: {done} rows")
        return done
