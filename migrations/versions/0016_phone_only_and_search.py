"""booking email optional: a caller with no email, booked by staff (phone only)

A booking with no email address gets no emails or invites; the front desk calls to remind
the patient. On SQLite, altering the column rebuilds the table, which cannot carry the
expression index over: it is dropped and made again around it.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-07 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None


def _alter_booking(alter):
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index('ix_booking_email_lower_status', table_name='booking')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        alter(batch_op)
    if sqlite:
        op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                        unique=False)


def upgrade():
    _alter_booking(lambda batch_op: batch_op.alter_column(
        'email', existing_type=sa.String(length=254), nullable=True))


def downgrade():
    # Phone-only bookings get a placeholder that can never receive mail.
    op.execute("UPDATE booking SET email = 'phone-only-' || public_id || '@invalid' WHERE email IS NULL")
    _alter_booking(lambda batch_op: batch_op.alter_column(
        'email', existing_type=sa.String(length=254), nullable=False))
