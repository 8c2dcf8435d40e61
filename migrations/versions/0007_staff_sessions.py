"""server-side staff sessions replace staff_user.session_version

A staff cookie now holds only a random session token; staff_session keeps its SHA-256, the
account, and when the session began, was last seen and ended. Ending a row signs that
browser out everywhere, so the per-account session_version counter is dropped (existing
cookies name no session row, so everyone signs in once more after the upgrade).

SQLite cannot drop a column that way here: staff_user is rebuilt (Alembic's batch mode,
foreign keys off for the migration and checked before the commit, see migrations/env.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'],
                            name='fk_staff_session_staff_user_id_staff_user'),
    sa.PrimaryKeyConstraint('id', name='pk_staff_session'),
    sa.UniqueConstraint('token_hash', name='uq_staff_session_token_hash')
    )
    op.create_index('ix_staff_session_staff_user_id', 'staff_session', ['staff_user_id'], unique=False)
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')


def downgrade():
    # Every account starts again at version 1; old cookies were already unusable.
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='1'))
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.alter_column('session_version', server_default=None)
    op.drop_index('ix_staff_session_staff_user_id', table_name='staff_session')
    op.drop_table('staff_session')
