"""The person's own policy rules, their feedback (approve / reject / undo) and the log of trust-tier changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:22:13.954627
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.String(length=23)
DB_NOW = sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


SETTINGS_TRIGGERS = {
    "settings_revision_on_settings": (
        "AFTER UPDATE ON autonomy_settings WHEN NEW.revision = OLD.revision "
        "BEGIN UPDATE autonomy_settings SET revision = revision + 1 WHERE user_id = NEW.user_id; END"
    ),
    "settings_revision_on_user": (
        "AFTER UPDATE OF trust_tier, timezone ON users "
        "BEGIN UPDATE autonomy_settings SET revision = revision + 1 WHERE user_id = NEW.id; END"
    ),
    "settings_revision_on_rule_insert": (
        "AFTER INSERT ON policy_rules "
        "BEGIN UPDATE autonomy_settings SET revision = revision + 1 WHERE user_id = NEW.user_id; END"
    ),
    "settings_revision_on_rule_update": (
        "AFTER UPDATE ON policy_rules "
        "BEGIN UPDATE autonomy_settings SET revision = revision + 1 WHERE user_id = NEW.user_id; END"
    ),
    "settings_revision_on_rule_delete": (
        "AFTER DELETE ON policy_rules "
        "BEGIN UPDATE autonomy_settings SET revision = revision + 1 WHERE user_id = OLD.user_id; END"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table('autonomy_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    op.create_table('feedback_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', TIMESTAMP, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action_kind', sa.String(length=64), nullable=False),
    sa.Column('risk', sa.String(length=16), server_default='low', nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('approved', 'rejected', 'undone')", name=op.f('ck_feedback_events_kind')),
    sa.CheckConstraint("risk IN ('low', 'moderate', 'high', 'critical')", name=op.f('ck_feedback_events_risk')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_events_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_events'))
    )
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_events_user_id'), ['user_id'], unique=False)

    op.create_table('policy_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), server_default=sa.text("''"), nullable=False),
    sa.Column('priority', sa.Integer(), server_default='100', nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('effect', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.Column('updated_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("effect IN ('allow', 'deny', 'require_approval')", name=op.f('ck_policy_rules_effect')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_policy_rules_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_rules'))
    )
    with op.batch_alter_table('policy_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_rules_user_id'), ['user_id'], unique=False)

    op.create_table('tier_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', TIMESTAMP, nullable=False),
    sa.Column('old_tier', sa.String(length=32), nullable=False),
    sa.Column('new_tier', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by_person', sa.Boolean(), nullable=False),
    sa.CheckConstraint("new_tier IN ('observer', 'suggest', 'low_autonomy', 'moderate_autonomy', 'high_autonomy')", name=op.f('ck_tier_changes_new_tier')),
    sa.CheckConstraint("old_tier IN ('observer', 'suggest', 'low_autonomy', 'moderate_autonomy', 'high_autonomy')", name=op.f('ck_tier_changes_old_tier')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tier_changes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_changes'))
    )
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier_changes_user_id'), ['user_id'], unique=False)
    for name, body in SETTINGS_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")



def downgrade() -> None:
    for name in SETTINGS_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier_changes_user_id'))

    op.drop_table('tier_changes')
    with op.batch_alter_table('policy_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_rules_user_id'))

    op.drop_table('policy_rules')
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_events_user_id'))

    op.drop_table('feedback_events')
    with op.batch_alter_table('autonomy_settings', schema=None) as batch_op:
        batch_op.drop_column('revision')
