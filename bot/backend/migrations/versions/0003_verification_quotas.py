"""verifications: SMS quotas, and a name and ID number no holder has

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A verification for a name and ID number no holder has is stored (holder_id
NULL) and answered like a real one; `identity_hash` and `phone_hash` (HMACs)
count the codes sent per identity and per phone; `unknown_identities` keeps
the wrong-code count and lock of such an identity (bot/backend/service.py).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('verifications') as batch:
        batch.alter_column('holder_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('identity_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_verifications_identity_hash'), 'verifications', ['identity_hash'])
    op.create_index(op.f('ix_verifications_phone_hash'), 'verifications', ['phone_hash'])
    op.create_table('unknown_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_hash', sa.String(length=64), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('wrong_codes', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unknown_identities')),
    sa.UniqueConstraint('identity_hash', name=op.f('uq_unknown_identities_identity_hash'))
    )


def downgrade() -> None:
    op.drop_table('unknown_identities')
    op.drop_index(op.f('ix_verifications_phone_hash'), table_name='verifications')
    op.drop_index(op.f('ix_verifications_identity_hash'), table_name='verifications')
    op.execute("DELETE FROM verification_tokens WHERE verification_id IN "
               "(SELECT id FROM verifications WHERE holder_id IS NULL)")
    op.execute("DELETE FROM verifications WHERE holder_id IS NULL")
    with op.batch_alter_table('verifications') as batch:
        batch.drop_column('phone_hash')
        batch.drop_column('identity_hash')
        batch.alter_column('holder_id', existing_type=sa.Integer(), nullable=False)
