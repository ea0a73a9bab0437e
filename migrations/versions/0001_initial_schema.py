"""Initial schema: people, their autonomy settings, connector health and cursors, the
processed-signals ledger, the approvals queue and the append-only decision log.

Timestamps are fixed-width UTC text (see skytwin_desktop.store.types.UTCDateTime).

Revision ID: 0001
Revises:
Create Date: 2026-11-28 19:07:15.393652
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.String(length=23)
DB_NOW = sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=200), server_default=sa.text("''"), nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('trust_tier', sa.String(length=32), server_default='observer', nullable=False),
    sa.Column('created_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("trust_tier IN ('observer', 'suggest', 'low_autonomy', 'moderate_autonomy', 'high_autonomy')", name=op.f('ck_users_trust_tier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action_key', sa.String(length=255), nullable=False),
    sa.Column('action_kind', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('action', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('urgency', sa.String(length=16), server_default='normal', nullable=False),
    sa.Column('confirmation', sa.String(length=8), server_default='single', nullable=False),
    sa.Column('confirmations_received', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_confirmed_at', TIMESTAMP, nullable=True),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.Column('expires_at', TIMESTAMP, nullable=False),
    sa.Column('resolved_at', TIMESTAMP, nullable=True),
    sa.Column('resolution_note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("confirmation IN ('none', 'single', 'dual')", name=op.f('ck_approvals_confirmation')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'expired')", name=op.f('ck_approvals_status')),
    sa.CheckConstraint("urgency IN ('immediate', 'normal', 'low')", name=op.f('ck_approvals_urgency')),
    sa.CheckConstraint('confirmations_received >= 0', name=op.f('ck_approvals_confirmations_received')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_approvals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('user_id', 'action_key', name='uq_approvals_user_action')
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_user_id'), ['user_id'], unique=False)

    op.create_table('autonomy_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), server_default=sa.text('0'), nullable=False),
    sa.Column('paused_at', TIMESTAMP, nullable=True),
    sa.Column('paused_reason', sa.String(length=500), nullable=True),
    sa.Column('quiet_hours_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_hours_end', sa.String(length=5), nullable=True),
    sa.Column('allowed_domains', sa.JSON(), nullable=False),
    sa.Column('blocked_domains', sa.JSON(), nullable=False),
    sa.Column('require_approval_for_irreversible', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('updated_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("quiet_hours_start IS NULL OR (quiet_hours_start GLOB '[0-2][0-9]:[0-5][0-9]' AND quiet_hours_end GLOB '[0-2][0-9]:[0-5][0-9]')", name=op.f('ck_autonomy_settings_quiet_hours_format')),
    sa.CheckConstraint('(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)', name=op.f('ck_autonomy_settings_quiet_hours_pair')),
    sa.CheckConstraint('paused_reason IS NULL OR length(paused_reason) <= 500', name=op.f('ck_autonomy_settings_paused_reason_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_autonomy_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_autonomy_settings'))
    )
    op.create_table('connector_cursors',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=False),
    sa.Column('updated_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_connector_cursors_connector_name')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_connector_cursors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', name=op.f('pk_connector_cursors'))
    )
    op.create_table('connector_health',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('last_success_at', TIMESTAMP, nullable=True),
    sa.Column('last_failure_at', TIMESTAMP, nullable=True),
    sa.Column('updated_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_connector_health_connector_name')),
    sa.CheckConstraint("status IN ('connected', 'needs_reauth', 'disabled')", name=op.f('ck_connector_health_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_connector_health_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', name=op.f('pk_connector_health'))
    )
    op.create_table('decision_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.Column('action_key', sa.String(length=255), nullable=True),
    sa.Column('action_kind', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('requires_approval', sa.Boolean(), nullable=False),
    sa.Column('confirmation', sa.String(length=8), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=False),
    sa.CheckConstraint("confirmation IN ('none', 'single', 'dual')", name=op.f('ck_decision_log_confirmation')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_decision_log_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_log'))
    )
    with op.batch_alter_table('decision_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_log_user_id'), ['user_id'], unique=False)
    op.execute(
        "CREATE TRIGGER decision_log_append_only BEFORE UPDATE ON decision_log "
        "BEGIN SELECT RAISE(ABORT, 'decision_log is append-only'); END"
    )

    op.create_table('processed_signals',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('signal_id', sa.String(length=255), nullable=False),
    sa.Column('processed_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_processed_signals_connector_name')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_processed_signals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', 'signal_id', name=op.f('pk_processed_signals'))
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS decision_log_append_only")
    op.drop_table('processed_signals')
    with op.batch_alter_table('decision_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_log_user_id'))

    op.drop_table('decision_log')
    op.drop_table('connector_health')
    op.drop_table('connector_cursors')
    op.drop_table('autonomy_settings')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_user_id'))

    op.drop_table('approvals')
    op.drop_table('users')
