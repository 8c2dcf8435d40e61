"""index on booking.created_at

The staff dashboard lists the newest bookings (since the last visit, 20 at most): with the
index that is a short walk from the newest, instead of sorting every booking ever made.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_created_at'))
