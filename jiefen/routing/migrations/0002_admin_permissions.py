from django.db import migrations

PERMISSIONS = ["add_routingrule", "change_routingrule", "delete_routingrule", "view_routingrule"]


def grant(apps, schema_editor):
    """Admins edit the routing table; dispatchers may read it."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("routing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in (("admin", PERMISSIONS), ("dispatcher", ["view_routingrule"])):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="routing", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0001_routing_rules"),
        ("org", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
