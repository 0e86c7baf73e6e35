"""Replies translated back: the translators' copy of a reply's scan, and one translation at the
desk per letter and per reply (issue 17).

Written by hand: a nullable column (existing translations have no scan copy) and the partial
unique index on (letter, kind) split in two, since a letter may have several replies, each
translated at most once at a time. The downgrade restores the single index, which holds for
data made before this revision.

Revision ID: 5b2d8e41c7a9
Revises: 4440049bb533
Create Date: 2026-12-07 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2d8e41c7a9'
down_revision = '4440049bb533'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('open', 'claimed', 'submitted')"


def upgrade():
    with op.batch_alter_table('translation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_file_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_translation_scan_file_id_stored_file'),
            'stored_file', ['scan_file_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.drop_index('uq_translation_active_per_letter')
        batch_op.create_index(
            'uq_translation_letter_at_desk', ['letter_id'], unique=True,
            sqlite_where=sa.text(f"kind = 'letter' AND {ACTIVE}"),
            postgresql_where=sa.text(f"kind = 'letter' AND {ACTIVE}"),
        )
        batch_op.create_index(
            'uq_translation_reply_at_desk', ['incoming_mail_id'], unique=True,
            sqlite_where=sa.text(f"kind = 'reply' AND {ACTIVE}"),
            postgresql_where=sa.text(f"kind = 'reply' AND {ACTIVE}"),
        )


def downgrade():
    with op.batch_alter_table('translation', schema=None) as batch_op:
        batch_op.drop_index('uq_translation_reply_at_desk')
        batch_op.drop_index('uq_translation_letter_at_desk')
        batch_op.create_index(
            'uq_translation_active_per_letter', ['letter_id', 'kind'], unique=True,
            sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
        )
        batch_op.drop_constraint(batch_op.f('fk_translation_scan_file_id_stored_file'), type_='foreignkey')
        batch_op.drop_column('scan_file_id')
