"""waiting list: entries, freed slots and the offers sent for them

waitlist_entry holds who waits for an earlier time and what suits them (token hashed);
waitlist_freed_slot records each slot that became free, in the transaction that freed it;
waitlist_offer holds each offer of a freed slot to an entry, and the booking a claim made.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 01:28:13

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waitlist_freed_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('freed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_waitlist_freed_slot_slot_id_slot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_freed_slot'))
    )
    with op.batch_alter_table('waitlist_freed_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_freed_slot_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('ix_waitlist_freed_slot_status', ['status', 'freed_at'], unique=False)

    op.create_table('waitlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('earliest', sa.Date(), nullable=False),
    sa.Column('latest', sa.Date(), nullable=False),
    sa.Column('weekdays', sa.String(length=16), nullable=False),
    sa.Column('parts_of_day', sa.String(length=32), nullable=False),
    sa.Column('modes', sa.String(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_waitlist_entry_booking_id_booking')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entry')),
    sa.UniqueConstraint('public_id', name=op.f('uq_waitlist_entry_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_waitlist_entry_token_hash'))
    )
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entry_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_waitlist_entry_status_created', ['status', 'created_at'], unique=False)

    op.create_table('waitlist_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('freed_slot_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_waitlist_offer_booking_id_booking')),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entry.id'], name=op.f('fk_waitlist_offer_entry_id_waitlist_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['freed_slot_id'], ['waitlist_freed_slot.id'], name=op.f('fk_waitlist_offer_freed_slot_id_waitlist_freed_slot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_waitlist_offer_slot_id_slot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_offer')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_waitlist_offer_token_hash'))
    )
    with op.batch_alter_table('waitlist_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_offer_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_offer_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_offer_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_offer_freed_slot_id'), ['freed_slot_id'], unique=False)
        batch_op.create_index('ix_waitlist_offer_slot_status', ['slot_id', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('waitlist_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_offer_slot_status')
        batch_op.drop_index(batch_op.f('ix_waitlist_offer_freed_slot_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_offer_entry_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_offer_email'))
        batch_op.drop_index(batch_op.f('ix_waitlist_offer_booking_id'))

    op.drop_table('waitlist_offer')
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_entry_status_created')
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_booking_id'))

    op.drop_table('waitlist_entry')
    with op.batch_alter_table('waitlist_freed_slot', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_freed_slot_status')
        batch_op.drop_index(batch_op.f('ix_waitlist_freed_slot_slot_id'))

    op.drop_table('waitlist_freed_slot')
