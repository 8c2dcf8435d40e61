"""booking locale: the language the patient booked in

Every message a booking's patient gets is written in this language ('en' or 'es');
existing bookings were all made in English. On SQLite, dropping the column rebuilds the
table, which cannot carry the expression index over: it is dropped and made again around it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 01:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), server_default='en', nullable=False))


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index('ix_booking_email_lower_status', table_name='booking')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('locale')
    if sqlite:
        op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                        unique=False)
