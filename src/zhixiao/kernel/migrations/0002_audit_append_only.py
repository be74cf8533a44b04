"""The audit table refuses UPDATE and DELETE at the database, on SQLite and on PostgreSQL."""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER kernel_auditrecord_no_update BEFORE UPDATE ON kernel_auditrecord "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER kernel_auditrecord_no_delete BEFORE DELETE ON kernel_auditrecord "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION kernel_auditrecord_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;""",
    "CREATE TRIGGER kernel_auditrecord_no_change BEFORE UPDATE OR DELETE ON kernel_auditrecord "
    "FOR EACH ROW EXECUTE FUNCTION kernel_auditrecord_append_only();",
    "CREATE TRIGGER kernel_auditrecord_no_truncate BEFORE TRUNCATE ON kernel_auditrecord "
    "FOR EACH STATEMENT EXECUTE FUNCTION kernel_auditrecord_append_only();",
]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("kernel", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
