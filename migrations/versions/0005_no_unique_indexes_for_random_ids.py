"""booking UIDs and Message-IDs without unique indexes of their own

A new booking's UID is `<public_id>@<sending domain>`, unique because public_id is, and a
Message-ID carries 128 random bits per change: neither needs an index of its own, and
keeping both up was a sixth of a booking's time in the writers' turn on SQLite (two of the
twelve B-trees each booking writes). Nothing looks a booking up by UID or a message by
Message-ID.

SQLite cannot drop a table constraint: the two tables are rebuilt (Alembic's batch mode).
migrations/env.py turns SQLite's foreign keys off for the migration, as SQLite's own
procedure for table rebuilds asks, and checks every reference before committing. The
expression and partial indexes on booking are made again explicitly around the rebuild.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
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
        batch_op.drop_constraint('uq_booking_ical_uid', type_='unique')
    if sqlite:
        _create_booking_special_indexes()
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_message_message_id', type_='unique')


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_outbox_message_message_id', ['message_id'])
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        _drop_booking_special_indexes()
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_booking_ical_uid', ['ical_uid'])
    if sqlite:
        _create_booking_special_indexes()
