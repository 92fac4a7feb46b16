from django.db import migrations


def load(apps, schema_editor):
    from jiefen.documents.defaults import DEFAULT_TEMPLATES

    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    for kind, (title, body) in DEFAULT_TEMPLATES.items():
        DocumentTemplate.objects.get_or_create(kind=kind, defaults={"title": title, "body": body})


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_document_templates")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
