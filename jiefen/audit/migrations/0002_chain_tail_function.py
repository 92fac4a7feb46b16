"""PostgreSQL: ``audit_chain_tail(key)`` takes the chain's advisory lock and then reads the last entry, in one
round trip. The read is a statement of its own inside the function, so (a VOLATILE function takes a fresh
snapshot per statement) it sees the entry of any append that held the lock before; a plain
``SELECT pg_advisory_xact_lock(…), (SELECT … last entry)`` would read with the snapshot taken before waiting.
SQLite needs nothing: its writers hold the database lock from BEGIN IMMEDIATE."""

from django.db import migrations

CREATE = """
CREATE FUNCTION audit_chain_tail(lock_key bigint) RETURNS TABLE (seq bigint, hash varchar)
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(lock_key);
    SELECT entry.seq, entry.hash FROM audit_auditentry AS entry ORDER BY entry.seq DESC LIMIT 1;
$$
"""
DROP = "DROP FUNCTION audit_chain_tail(bigint)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
