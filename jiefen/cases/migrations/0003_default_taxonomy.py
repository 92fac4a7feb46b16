from django.db import migrations


def load(apps, schema_editor):
    from jiefen.cases.taxonomy import DEFAULT_TAXONOMY

    Category = apps.get_model("cases", "Category")

    def add(nodes, parent):
        for code, name, synonyms, children in nodes:
            if Category.objects.filter(code=code).exists():
                continue
            node = Category.objects.create(code=code, name=name, synonyms=synonyms, parent=parent)
            # Historical models have no custom save(): keep path and full name here.
            node.path = f"{parent.path if parent else '/'}{node.pk}/"
            node.full_name = f"{parent.full_name} › {name}" if parent else name
            node.save(update_fields=["path", "full_name"])
            add(children, node)

    add(DEFAULT_TAXONOMY, None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_relations")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
