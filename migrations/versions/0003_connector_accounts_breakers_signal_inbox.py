"""Connector accounts, persisted breaker backoff, and the signal inbox polls write into.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 19:53:00.076797
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.String(length=23)
DB_NOW = sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connector_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('account_email', sa.String(length=320), nullable=False),
    sa.Column('connected_at', TIMESTAMP, nullable=False),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_connector_accounts_connector_name')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_connector_accounts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', name=op.f('pk_connector_accounts'))
    )
    op.create_table('connector_breakers',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('open_until', TIMESTAMP, nullable=True),
    sa.Column('last_error_code', sa.String(length=64), nullable=True),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_connector_breakers_connector_name')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_connector_breakers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', name=op.f('pk_connector_breakers'))
    )
    op.create_table('signal_inbox',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('signal_id', sa.String(length=255), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_signal_inbox_connector_name')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signal_inbox_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', 'signal_id', name=op.f('pk_signal_inbox'))
    )


def downgrade() -> None:
    op.drop_table('signal_inbox')
    op.drop_table('connector_breakers')
    op.drop_table('connector_accounts')
