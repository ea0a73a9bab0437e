"""Whether each connected service is being read (and why not), and the items set aside because
they could not be read, stored or judged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.String(length=23)
DB_NOW = sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connector_reading',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('problem', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('failing_since', TIMESTAMP, nullable=True),
    sa.Column('retry_at', TIMESTAMP, nullable=True),
    sa.Column('last_attempt_at', TIMESTAMP, nullable=True),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_connector_reading_connector_name')),
    sa.CheckConstraint("problem IN ('unreachable', 'google_errors', 'keyring_locked', 'keyring_missing', 'internal_error')", name=op.f('ck_connector_reading_problem')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_connector_reading_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'connector_name', name=op.f('pk_connector_reading'))
    )
    op.create_table('set_aside',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connector_name', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=False),
    sa.Column('stage', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=300), server_default=sa.text("''"), nullable=False),
    sa.Column('sender', sa.String(length=320), server_default=sa.text("''"), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('app_version', sa.String(length=32), nullable=False),
    sa.Column('set_aside_at', TIMESTAMP, server_default=DB_NOW, nullable=False),
    sa.CheckConstraint("connector_name IN ('gmail', 'calendar')", name=op.f('ck_set_aside_connector_name')),
    sa.CheckConstraint("stage IN ('read', 'store', 'judge')", name=op.f('ck_set_aside_stage')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_set_aside_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_set_aside')),
    sa.UniqueConstraint('user_id', 'connector_name', 'item_id', name='uq_set_aside_item')
    )
    with op.batch_alter_table('set_aside', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_set_aside_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('set_aside', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_set_aside_user_id'))
    op.drop_table('set_aside')
    op.drop_table('connector_reading')
