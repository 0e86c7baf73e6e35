"""Emails in the language their reader chose: the language kept with reminder subscriptions,
follows and accounts (issue 18).

Written by hand: three nullable columns, no data changed. Existing rows keep NULL, which
means what it meant before (reminders in the letter's language, the rest in the default
one). The downgrade drops them.

Revision ID: 7c1e9f3a2d64
Revises: 5b2d8e41c7a9
Create Date: 2026-12-08 00:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1e9f3a2d64'
down_revision = '5b2d8e41c7a9'
branch_labels = None
depends_on = None

TABLES = ('reminder_subscription', 'follow', 'user')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('language')
