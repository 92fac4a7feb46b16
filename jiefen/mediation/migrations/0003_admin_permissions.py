from django.db import migrations

ADMIN = [
    "add_mediatorprofile",
    "change_mediatorprofile",
    "view_mediatorprofile",
    "change_documenttemplate",
    "view_documenttemplate",
]


def grant(apps, schema_editor):
    """Admins keep the mediator directory and edit the document templates."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("mediation")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="admin")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="mediation", codename__in=ADMIN))


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0002_default_document_templates"),
        ("org", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
