"""outbox rows carry the event; the worker renders it at send time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event', sa.Text(), nullable=True))


def downgrade():
    # Render what is still unrendered first (`flask worker --once` delivers it), or it is lost.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('event')
