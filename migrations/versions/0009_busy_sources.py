"""busy sources and busy intervals: staff calendars that block consultation slots

busy_source holds each calendar read for busy times (its URL and credentials encrypted in
one column); busy_interval holds only the start and end of each busy span, indexed on
(starts_at, ends_at) for the overlap test every slot listing makes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('busy_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('secret', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=255), nullable=False),
    sa.Column('last_modified', sa.String(length=64), nullable=False),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('next_sync_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_busy_source')),
    sa.UniqueConstraint('label', name=op.f('uq_busy_source_label'))
    )
    op.create_table('busy_interval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['busy_source.id'],
                            name=op.f('fk_busy_interval_source_id_busy_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_busy_interval'))
    )
    with op.batch_alter_table('busy_interval', schema=None) as batch_op:
        batch_op.create_index('ix_busy_interval_span', ['starts_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_busy_interval_source_id'), ['source_id'], unique=False)


def downgrade():
    with op.batch_alter_table('busy_interval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_busy_interval_source_id'))
        batch_op.drop_index('ix_busy_interval_span')
    op.drop_table('busy_interval')
    op.drop_table('busy_source')
