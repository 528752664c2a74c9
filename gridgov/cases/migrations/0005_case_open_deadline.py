"""The open workload in queue order: a partial index on (deadline, id).

Built with CREATE INDEX CONCURRENTLY on PostgreSQL (no lock on case intake while a city's cases
are read; the migration is therefore not atomic), a plain CREATE INDEX elsewhere.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0004_config_version"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("state__in", ["closed", "rejected", "merged"]), _negated=True),
                fields=["deadline", "id"],
                name="case_open_deadline",
            ),
        ),
    ]
