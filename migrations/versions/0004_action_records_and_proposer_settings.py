"""Action records (idempotent execution) and the settings the proposers read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 21:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.String(length=23)


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action_key', sa.String(length=255), nullable=False),
    sa.Column('action_kind', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('action', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started_at', TIMESTAMP, nullable=False),
    sa.Column('finished_at', TIMESTAMP, nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('undone_at', TIMESTAMP, nullable=True),
    sa.Column('owner_pid', sa.Integer(), nullable=True),
    sa.Column('lease_until', TIMESTAMP, nullable=True),
    sa.CheckConstraint("state IN ('started', 'done', 'failed', 'queued', 'refused', 'undoing', 'undone')", name=op.f('ck_action_records_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_action_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_records')),
    sa.UniqueConstraint('user_id', 'action_key', name='uq_action_records_user_action')
    )
    with op.batch_alter_table('action_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_records_user_id'), ['user_id'], unique=False)
    # Plain ADD COLUMN, not a batch copy: a copy would drop the revision triggers on this table.
    op.add_column('autonomy_settings',
                  sa.Column('trusted_contacts', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.add_column('autonomy_settings',
                  sa.Column('sender_labels', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('autonomy_settings', schema=None) as batch_op:
        batch_op.drop_column('sender_labels')
        batch_op.drop_column('trusted_contacts')
    with op.batch_alter_table('action_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_records_user_id'))
    op.drop_table('action_records')
