"""who booked: a staff member's name on bookings made for a caller

Bookings the front desk makes for someone on the phone record the staff member's name
(shown on the booking's page); online bookings leave it empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Adding a nullable column needs no table rebuild on SQLite: batch mode issues a plain
    # ALTER TABLE there, so booking's expression and partial indexes are left alone.
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_by', sa.String(length=100), nullable=True))


def downgrade():
    # Dropping a column does rebuild the table on SQLite; make booking's special indexes again.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    where = sa.text("status = 'confirmed'")
    if sqlite:
        op.drop_index('ix_booking_email_lower_status', table_name='booking')
        op.drop_index('uq_booking_active_slot', table_name='booking', sqlite_where=where)
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('booked_by')
    if sqlite:
        op.create_index('uq_booking_active_slot', 'booking', ['slot_id'], unique=True, sqlite_where=where)
        op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                        unique=False)
