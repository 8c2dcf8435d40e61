"""on PostgreSQL the calendar version is a sequence (nextval never waits on other changes)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps the calendar_state row (see app/booking/calendar_version.py)
    op.execute("CREATE SEQUENCE IF NOT EXISTS calendar_version_seq")
    # Carry on from the row's version, so the number only ever goes up.
    op.execute("SELECT setval('calendar_version_seq', "
               "COALESCE((SELECT version FROM calendar_state WHERE id = 1), 0) + 1)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # And back: the row carries on from the sequence.
    op.execute("UPDATE calendar_state SET version = "
               "(SELECT last_value FROM calendar_version_seq) + 1 WHERE id = 1")
    op.execute("DROP SEQUENCE IF EXISTS calendar_version_seq")
