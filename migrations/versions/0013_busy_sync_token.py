"""busy source sync token (RFC 6578) and when the source was last read in full

A CalDAV source with a stored token first asks the server what changed since it, and
reads the calendar again only when something did. Existing sources have none, so their
next sync is a full read that stores one. `read_at` says when the calendar was last read in
full: the booking horizon moves on a day each day, so a source is read in full at least daily
even when its server says nothing changed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('busy_source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_token', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('busy_source', schema=None) as batch_op:
        batch_op.drop_column('read_at')
        batch_op.drop_column('sync_token')
