"""text messages: consent, opt-outs, replies, the outbox's channel

Bookings and waiting-list entries record when and where the patient agreed to texts (none
did before). Texts are outbox rows with channel 'sms' (every existing row is an email); a
text's provider id and last reported status come from the provider. Numbers that replied
STOP are kept until they reply START; replies are kept for staff.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_opt_out',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('keyword', sa.String(length=16), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_out'))
    )
    op.create_table('sms_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('keyword', sa.String(length=16), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_sms_reply_booking_id_booking')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_reply')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_sms_reply_provider_id'))
    )
    with op.batch_alter_table('sms_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_reply_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_reply_phone'), ['phone'], unique=False)

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sms_consent_source', sa.String(length=16), nullable=True))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('provider_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('provider_status', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_provider_id'), ['provider_id'])
        batch_op.create_index('ix_outbox_message_sms_to_address', ['to_address'], unique=False,
                              sqlite_where=sa.text("channel = 'sms'"),
                              postgresql_where=sa.text("channel = 'sms'"))

    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sms_consent_source', sa.String(length=16), nullable=True))



def downgrade():
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_column('sms_consent_source')
        batch_op.drop_column('sms_consent_at')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_sms_to_address')
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_provider_id'), type_='unique')
        batch_op.drop_column('provider_status')
        batch_op.drop_column('provider_id')
        batch_op.drop_column('channel')

    # On SQLite, dropping columns rebuilds the table, which cannot carry the expression index.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index('ix_booking_email_lower_status', table_name='booking')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('sms_consent_source')
        batch_op.drop_column('sms_consent_at')
    if sqlite:
        op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                        unique=False)

    with op.batch_alter_table('sms_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_reply_phone'))
        batch_op.drop_index(batch_op.f('ix_sms_reply_booking_id'))

    op.drop_table('sms_reply')
    op.drop_table('sms_opt_out')
