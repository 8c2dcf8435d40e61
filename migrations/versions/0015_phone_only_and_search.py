"""booking email optional (phone only), the folded search text, and video call rooms

A caller with no email may be booked by staff: a booking with no email address gets no
emails or invites, and the front desk calls to remind the patient. `search_text` holds the
name and email without accents or case (app.booking.search), so staff search finds
"María López" from "maria lopez" on SQLite and PostgreSQL alike. `video_room` is each
booking's own random room for a VIDEO_URL with `{room}`, and `custom_video_url` a call
address staff set for one booking. Existing bookings get their search text and room here. On SQLite, altering the table rebuilds it, which cannot carry the
expression index over: it is dropped and made again around it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:30:00

"""
import secrets
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _fold(text):
    # app.booking.search.fold as of this revision (a migration does not import the app).
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _alter_booking(alter):
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index('ix_booking_email_lower_status', table_name='booking')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        alter(batch_op)
    if sqlite:
        op.create_index('ix_booking_email_lower_status', 'booking', [sa.text('lower(email)'), 'status'],
                        unique=False)


def _upgrade_booking(batch_op):
    batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
    batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    batch_op.add_column(sa.Column('video_room', sa.String(length=32), nullable=True))
    batch_op.add_column(sa.Column('custom_video_url', sa.String(length=500), nullable=True))


def _downgrade_booking(batch_op):
    batch_op.drop_column('custom_video_url')
    batch_op.drop_column('video_room')
    batch_op.drop_column('search_text')
    batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)


def upgrade():
    _alter_booking(_upgrade_booking)
    booking = sa.table('booking', sa.column('id', sa.Integer), sa.column('name', sa.String),
                       sa.column('email', sa.String), sa.column('erased_at', sa.DateTime),
                       sa.column('search_text', sa.Text), sa.column('video_room', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(booking.c.id, booking.c.name, booking.c.email, booking.c.erased_at)).all()
    for row in rows:
        text = "" if row.erased_at else " ".join(part for part in (_fold(row.name), _fold(row.email)) if part)
        connection.execute(booking.update().where(booking.c.id == row.id)
                           .values(search_text=text, video_room=secrets.token_hex(10)))


def downgrade():
    # Phone-only bookings get a placeholder address that can never receive mail.
    op.execute("UPDATE booking SET email = 'phone-only-' || public_id || '@invalid' WHERE email IS NULL")
    _alter_booking(_downgrade_booking)
