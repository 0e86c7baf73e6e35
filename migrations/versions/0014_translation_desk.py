"""The translation desk: translations of letters and replies, translators' languages and
digest choice, and the organisation's review and claim settings (issue 17).

Reviewed by hand: a new table, and columns with server defaults so that existing rows get
them (no translation review, claims of 120 minutes, no languages, the digest on). One
translation of each kind at the desk per letter: a partial unique index on the active ones.
The downgrade drops them.

Revision ID: 4440049bb533
Revises: 8f7a5ba01380
Create Date: 2026-12-07 21:58:23.691254

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4440049bb533'
down_revision = '8f7a5ba01380'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('letter', 'reply', name='translationkind', native_enum=False, length=20), nullable=False),
    sa.Column('incoming_mail_id', sa.Integer(), nullable=True),
    sa.Column('source_language', sa.String(length=8), nullable=False),
    sa.Column('target_language', sa.String(length=8), nullable=False),
    sa.Column('state', sa.Enum('open', 'claimed', 'submitted', 'done', name='translationstate', native_enum=False, length=20), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claim_expires_at', sa.DateTime(), nullable=True),
    sa.Column('translator_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('text_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('text_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('note_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['user.id'], name=op.f('fk_translation_claimed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incoming_mail_id'], ['incoming_mail.id'], name=op.f('fk_translation_incoming_mail_id_incoming_mail'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_translation_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user.id'], name=op.f('fk_translation_reviewer_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['translator_id'], ['user.id'], name=op.f('fk_translation_translator_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation'))
    )
    with op.batch_alter_table('translation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translation_claimed_by_id'), ['claimed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_incoming_mail_id'), ['incoming_mail_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_state'), ['state'], unique=False)
        batch_op.create_index('uq_translation_active_per_letter', ['letter_id', 'kind'], unique=True, sqlite_where=sa.text("state IN ('open', 'claimed', 'submitted')"), postgresql_where=sa.text("state IN ('open', 'claimed', 'submitted')"))

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translation_review', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('translation_claim_minutes', sa.Integer(), server_default='120', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translates_from', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('translates_into', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('wants_digest', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('wants_digest')
        batch_op.drop_column('translates_into')
        batch_op.drop_column('translates_from')

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('translation_claim_minutes')
        batch_op.drop_column('translation_review')

    with op.batch_alter_table('translation', schema=None) as batch_op:
        batch_op.drop_index('uq_translation_active_per_letter', sqlite_where=sa.text("state IN ('open', 'claimed', 'submitted')"), postgresql_where=sa.text("state IN ('open', 'claimed', 'submitted')"))
        batch_op.drop_index(batch_op.f('ix_translation_state'))
        batch_op.drop_index(batch_op.f('ix_translation_letter_id'))
        batch_op.drop_index(batch_op.f('ix_translation_incoming_mail_id'))
        batch_op.drop_index(batch_op.f('ix_translation_claimed_by_id'))

    op.drop_table('translation')
