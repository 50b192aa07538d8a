"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24

Generated with Alembic autogenerate from bot/backend/models.py, then: triggers that
make audit_log append-only (SQLite and PostgreSQL).
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('subject_masked', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'])

    op.create_table('holders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('phone_masked', sa.String(length=20), nullable=False),
    sa.Column('wrong_codes', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holders')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_holders_id_number_hash'))
    )
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('key', name=op.f('uq_idempotency_records_key'))
    )
    op.create_table('sms_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('phone_masked', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox'))
    )
    op.create_index(op.f('ix_sms_outbox_created_at'), 'sms_outbox', ['created_at'])

    op.create_table('ticket_day_counters',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_ticket_day_counters'))
    )
    op.create_table('cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('card_number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('social_security_active', sa.Boolean(), nullable=False),
    sa.Column('financial_active', sa.Boolean(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('issuing_bank', sa.String(length=100), nullable=False),
    sa.Column('pickup_location', sa.String(length=200), nullable=True),
    sa.Column('replaces_card_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('in_production', 'ready_for_pickup', 'issued_inactive', 'active', 'reported_lost', 'cancelled')", name=op.f('ck_cards_status')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_cards_holder_id_holders')),
    sa.ForeignKeyConstraint(['replaces_card_id'], ['cards.id'], name=op.f('fk_cards_replaces_card_id_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('card_number', name=op.f('uq_cards_card_number')),
    sa.UniqueConstraint('public_id', name=op.f('uq_cards_public_id'))
    )
    op.create_index(op.f('ix_cards_holder_id'), 'cards', ['holder_id'])

    op.create_table('handoff_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_number', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_handoff_tickets_status')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_handoff_tickets_holder_id_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_tickets')),
    sa.UniqueConstraint('ticket_number', name=op.f('uq_handoff_tickets_ticket_number'))
    )
    op.create_index(op.f('ix_handoff_tickets_holder_id'), 'handoff_tickets', ['holder_id'])

    op.create_table('verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_verifications_holder_id_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verifications')),
    sa.UniqueConstraint('public_id', name=op.f('uq_verifications_public_id'))
    )
    op.create_index(op.f('ix_verifications_holder_id'), 'verifications', ['holder_id'])

    op.create_table('loss_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('previous_status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_loss_reports_card_id_cards')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_loss_reports_holder_id_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loss_reports')),
    sa.UniqueConstraint('public_id', name=op.f('uq_loss_reports_public_id'))
    )
    op.create_index(op.f('ix_loss_reports_card_id'), 'loss_reports', ['card_id'])

    op.create_table('replacement_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('old_card_id', sa.Integer(), nullable=False),
    sa.Column('new_card_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('pickup_location', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('submitted', 'in_production', 'ready_for_pickup', 'collected', 'rejected')", name=op.f('ck_replacement_applications_status')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_replacement_applications_holder_id_holders')),
    sa.ForeignKeyConstraint(['new_card_id'], ['cards.id'], name=op.f('fk_replacement_applications_new_card_id_cards')),
    sa.ForeignKeyConstraint(['old_card_id'], ['cards.id'], name=op.f('fk_replacement_applications_old_card_id_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replacement_applications')),
    sa.UniqueConstraint('public_id', name=op.f('uq_replacement_applications_public_id'))
    )
    op.create_index(op.f('ix_replacement_applications_holder_id'), 'replacement_applications', ['holder_id'])

    op.create_table('verification_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('verification_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_verification_tokens_holder_id_holders')),
    sa.ForeignKeyConstraint(['verification_id'], ['verifications.id'], name=op.f('fk_verification_tokens_verification_id_verifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_verification_tokens_token_hash'))
    )
    op.create_index(op.f('ix_verification_tokens_holder_id'), 'verification_tokens', ['holder_id'])

    op.create_table('application_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['replacement_applications.id'], name=op.f('fk_application_events_application_id_replacement_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_events'))
    )
    op.create_index(op.f('ix_application_events_application_id'), 'application_events', ['application_id'])
    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def _drop_audit_log_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def downgrade() -> None:
    _drop_audit_log_triggers()
    op.drop_index(op.f('ix_application_events_application_id'), table_name='application_events')
    op.drop_table('application_events')
    op.drop_index(op.f('ix_verification_tokens_holder_id'), table_name='verification_tokens')
    op.drop_table('verification_tokens')
    op.drop_index(op.f('ix_replacement_applications_holder_id'), table_name='replacement_applications')
    op.drop_table('replacement_applications')
    op.drop_index(op.f('ix_loss_reports_card_id'), table_name='loss_reports')
    op.drop_table('loss_reports')
    op.drop_index(op.f('ix_verifications_holder_id'), table_name='verifications')
    op.drop_table('verifications')
    op.drop_index(op.f('ix_handoff_tickets_holder_id'), table_name='handoff_tickets')
    op.drop_table('handoff_tickets')
    op.drop_index(op.f('ix_cards_holder_id'), table_name='cards')
    op.drop_table('cards')
    op.drop_table('ticket_day_counters')
    op.drop_index(op.f('ix_sms_outbox_created_at'), table_name='sms_outbox')
    op.drop_table('sms_outbox')
    op.drop_table('idempotency_records')
    op.drop_table('holders')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
