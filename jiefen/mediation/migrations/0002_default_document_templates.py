from django.db import migrations


def load(apps, schema_editor):
    """The record and agreement templates; an existing template (an admin's edit) is kept."""
    from jiefen.mediation.templates_default import DEFAULTS

    DocumentTemplate = apps.get_model("mediation", "DocumentTemplate")
    for kind, (title, body) in DEFAULTS.items():
        DocumentTemplate.objects.get_or_create(kind=kind, defaults={"title": title, "body": body})


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_disputes")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
