"""handoff tickets: keyed hashes of the conversation and of the client

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

One open ticket per conversation and a few per client address an hour
(bot/backend/service.py open_ticket); both columns hold HMACs, never values.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoff_tickets') as batch:
        batch.add_column(sa.Column('conversation_ref', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('client_ref', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_handoff_tickets_conversation_ref'), 'handoff_tickets', ['conversation_ref'])
    op.create_index(op.f('ix_handoff_tickets_client_ref'), 'handoff_tickets', ['client_ref'])


def downgrade() -> None:
    op.drop_index(op.f('ix_handoff_tickets_client_ref'), table_name='handoff_tickets')
    op.drop_index(op.f('ix_handoff_tickets_conversation_ref'), table_name='handoff_tickets')
    with op.batch_alter_table('handoff_tickets') as batch:
        batch.drop_column('client_ref')
        batch.drop_column('conversation_ref')
