# The single-column indexes of three foreign keys are dropped: composite indexes that start with the same
# column serve their look-ups, and each index is one more write per case. Only the indexes go (the foreign
# keys stay as they are, so a large table is not re-checked): the state changes by AlterField, the database
# by DROP INDEX (the same statement on PostgreSQL and SQLite, and the same index names).

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("cases_case_category_id_c6dc5a5a", "cases_case", "category_id"),
    ("cases_case_jurisdiction_unit_id_a9fb70bc", "cases_case", "jurisdiction_unit_id"),
    ("cases_caseevent_case_id_6c6031ac", "cases_caseevent", "case_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_background_enrichment'),
        ('org', '0002_role_groups'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='category',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='cases.category', verbose_name='分类'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='jurisdiction_unit',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.unit', verbose_name='属地单位'),
                ),
                migrations.AlterField(
                    model_name='caseevent',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='cases.case'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in INDEXES
            ],
        ),
    ]
