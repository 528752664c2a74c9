from django.db import migrations


def forwards(apps, schema_editor):
    from gridgov.integrations.open311.defaults import install

    install(apps)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
