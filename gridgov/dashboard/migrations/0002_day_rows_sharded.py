"""District and town day rows split over shards (models.SHARDS); the rows are rebuilt from the case
table so that every case's counts sit in its own shard (a reopen takes a close back from there)."""

from typing import Any

from django.db import migrations, models


def rebuild(apps: Any, schema_editor: Any) -> None:
    if not apps.get_model("dashboard", "RegionDayStat").objects.exists():
        return  # a new database: nothing counted yet
    # The live module, not historical models: the rebuild is the rollups' own repair tool.
    from gridgov.dashboard import rollups
    from gridgov.regions.models import Region

    for root in Region.objects.filter(parent__isnull=True):
        rollups.rebuild(root=root)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        # The rebuild reads cases and regions as the code has them now.
        ("cases", "0005_case_open_deadline"),
        ("regions", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="regiondaystat", name="region_day_once"),
        migrations.AddField(
            model_name="regiondaystat", name="shard", field=models.PositiveSmallIntegerField(default=0)
        ),
        migrations.AddConstraint(
            model_name="regiondaystat",
            constraint=models.UniqueConstraint(fields=("region_path", "day", "shard"), name="region_day_shard_once"),
        ),
        migrations.RunPython(rebuild, migrations.RunPython.noop),
    ]
