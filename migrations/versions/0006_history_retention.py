"""How long the activity history (the decision log, finished actions, answered approvals and the
ledger of handled items) is kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:30:00.000000
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch copy: a copy would drop the revision triggers on this table.
    op.execute("ALTER TABLE autonomy_settings ADD COLUMN history_days INTEGER DEFAULT '90' NOT NULL "
               "CONSTRAINT ck_autonomy_settings_history_days CHECK (history_days >= 1)")


def downgrade() -> None:
    with op.batch_alter_table('autonomy_settings', schema=None) as batch_op:
        batch_op.drop_column('history_days')
