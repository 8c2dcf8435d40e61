"""unique indexes on booking UIDs and Message-IDs again; no calendar version

A booking's invite UID and every message's Message-ID are identities that calendar and
mail clients rely on, so the database guarantees them again. The calendar version (a row
on SQLite, a sequence on PostgreSQL) that slot listings were once cached on is gone: the
listings are read fresh.

SQLite cannot add a table constraint: the two tables are rebuilt (Alembic's batch mode).
migrations/env.py turns SQLite's foreign keys off for the migration and checks every
reference before committing. The expression and partial indexes on booking are made
again explicitly around the rebuild.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ACTIVE_SLOT_WHERE = "status = 'confirmed'"


def _drop_booking_special_indexes():
    op.drop_index('ix_booking_email_lower_status', table_name='booking')
    op.drop_index('uq_booking_active_slot', table_name='booking',
                  sqlite_where=sa.text(_ACTIVE_SLOT_WHERE), postgresql_where=sa.text(_ACTIVE_SLOT_WHERE))


def _create_booking_special_indexes():
    op.create_index('uq_booking_active_slot', 'booking', ['slot_id'], unique=True,
                    sqlite_where=sa.text(_ACTIVE_SLOT_WHERE), postgresql_where=sa.text(_ACTIVE_SLOT_WHERE))
    op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                    unique=False)


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        _drop_booking_special_indexes()
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_booking_ical_uid', ['ical_uid'])
    if sqlite:
        _create_booking_special_indexes()
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_outbox_message_message_id', ['message_id'])
    if not sqlite:
        op.execute("DROP SEQUENCE IF EXISTS calendar_version_seq")
    op.drop_table('calendar_state')


def downgrade():
    op.create_table('calendar_state',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name='pk_calendar_state'))
    op.execute("INSERT INTO calendar_state (id, version) VALUES (1, 0)")
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if not sqlite:
        op.execute("CREATE SEQUENCE IF NOT EXISTS calendar_version_seq START 1")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_message_message_id', type_='unique')
    if sqlite:
        _drop_booking_special_indexes()
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint('uq_booking_ical_uid', type_='unique')
    if sqlite:
        _create_booking_special_indexes()
