"""handoff tickets: live hand-over (issue 12)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10

Statuses waiting -> claimed -> closed (an open ticket becomes waiting); the
mode (live or callback); the conversation sealed beside its hash; the queue's
time, who claimed and when, the outcome; the call-back consent and phone
(sealed and masked, NULL once closed). bot/backend/handoffs.py uses them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('open', 'closed')"
NEW_STATUSES = "status IN ('waiting', 'claimed', 'closed')"
MODES = "mode IN ('live', 'callback')"


def upgrade() -> None:
    with op.batch_alter_table('handoff_tickets', recreate='auto') as batch:
        batch.drop_constraint(op.f('ck_handoff_tickets_status'), type_='check')
        batch.add_column(sa.Column('mode', sa.String(length=10), nullable=False, server_default='live'))
        batch.add_column(sa.Column('conversation_sealed', sa.Text(), nullable=True))
        batch.add_column(sa.Column('waiting_since', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('claimed_by_name', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('outcome', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('callback_consent', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('callback_phone_sealed', sa.Text(), nullable=True))
        batch.add_column(sa.Column('callback_phone_masked', sa.String(length=20), nullable=True))
    op.execute("UPDATE handoff_tickets SET status = 'waiting', waiting_since = created_at WHERE status = 'open'")
    with op.batch_alter_table('handoff_tickets') as batch:
        batch.create_check_constraint(op.f('ck_handoff_tickets_status'), NEW_STATUSES)
        batch.create_check_constraint(op.f('ck_handoff_tickets_mode'), MODES)
    op.create_index(op.f('ix_handoff_tickets_waiting_since'), 'handoff_tickets', ['waiting_since'])


def downgrade() -> None:
    op.drop_index(op.f('ix_handoff_tickets_waiting_since'), table_name='handoff_tickets')
    with op.batch_alter_table('handoff_tickets') as batch:
        batch.drop_constraint(op.f('ck_handoff_tickets_mode'), type_='check')
        batch.drop_constraint(op.f('ck_handoff_tickets_status'), type_='check')
    op.execute("UPDATE handoff_tickets SET status = 'open' WHERE status IN ('waiting', 'claimed')")
    with op.batch_alter_table('handoff_tickets') as batch:
        for column in ('callback_phone_masked', 'callback_phone_sealed', 'callback_consent', 'outcome',
                       'claimed_at', 'claimed_by_name', 'claimed_by', 'waiting_since', 'conversation_sealed', 'mode'):
            batch.drop_column(column)
        batch.create_check_constraint(op.f('ck_handoff_tickets_status'), OLD_STATUSES)
