"""outbox rows indexed by booking and status together (the worker's in-order check)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 05:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Created before the old one goes, so lookups by booking always have an index.
    op.create_index('ix_outbox_message_booking_id_status', 'outbox_message',
                    ['booking_id', 'status'], unique=False)
    op.drop_index('ix_outbox_message_booking_id', table_name='outbox_message')


def downgrade():
    op.create_index('ix_outbox_message_booking_id', 'outbox_message', ['booking_id'], unique=False)
    op.drop_index('ix_outbox_message_booking_id_status', table_name='outbox_message')
