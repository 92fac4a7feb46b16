from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    ScoreSettings = apps.get_model("analytics", "ScoreSettings")
    if not ScoreSettings.objects.exists():
        ScoreSettings.objects.create()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_rollups_hotspots_backlog_campaigns")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
