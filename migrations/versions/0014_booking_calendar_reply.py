"""booking calendar reply: the patient's last answer from their calendar (iMIP REPLY)

`calendar_reply` is 'accepted', 'tentative' or 'declined' (None until a reply is read),
`calendar_reply_at` when it was read. Staff see it beside the booking's status. On SQLite,
dropping the columns rebuilds the table, which cannot carry the expression index over: it
is dropped and made again around it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_reply', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('calendar_reply_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index('ix_booking_email_lower_status', table_name='booking')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('calendar_reply_at')
        batch_op.drop_column('calendar_reply')
    if sqlite:
        op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                        unique=False)
