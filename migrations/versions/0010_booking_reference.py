"""booking reference patients can read aloud; the patient's reason for cancelling

Every booking gets `reference`: 8 characters of Crockford base32 (shown as K7Q4-92MP),
unique. Existing bookings are given one here, in Python, before the column becomes NOT NULL
with the unique constraint uq_booking_reference. `cancel_reason` holds the patient's
optional reason for cancelling (for staff only).

SQLite cannot change a column to NOT NULL or add a constraint: booking is rebuilt (batch
mode), and its expression and partial indexes are made again around the rebuild, as in 0006.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as app/booking/reference.py
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


def _fill_references(connection):
    booking = sa.table('booking', sa.column('id', sa.Integer), sa.column('reference', sa.String))
    ids = connection.execute(sa.select(booking.c.id).where(booking.c.reference.is_(None))).scalars().all()
    used = set(connection.execute(sa.select(booking.c.reference)
                                  .where(booking.c.reference.is_not(None))).scalars())
    for booking_id in ids:
        reference = None
        while reference is None or reference in used:
            reference = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        used.add(reference)
        connection.execute(booking.update().where(booking.c.id == booking_id).values(reference=reference))


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.add_column('booking', sa.Column('reference', sa.String(length=8), nullable=True))
    op.add_column('booking', sa.Column('cancel_reason', sa.Text(), nullable=True))
    _fill_references(op.get_bind())
    if sqlite:
        _drop_booking_special_indexes()
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=8), nullable=False)
        batch_op.create_unique_constraint('uq_booking_reference', ['reference'])
    if sqlite:
        _create_booking_special_indexes()


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        _drop_booking_special_indexes()
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint('uq_booking_reference', type_='unique')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('reference')
    if sqlite:
        _create_booking_special_indexes()
