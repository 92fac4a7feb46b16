from django.db import migrations

GRANTS = {
    "admin": [
        "add_messagetemplate",
        "change_messagetemplate",
        "view_messagetemplate",
        "view_outbox",
        "change_outbox",
        "view_message",
    ],
    "supervisor": ["view_outbox"],
}


def grant(apps, schema_editor):
    """Admins edit the message templates and see the outbox in the admin."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("notify")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="notify", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0002_default_templates"),
        ("org", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
