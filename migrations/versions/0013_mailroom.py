"""The mailroom: the organisation's settings, personal API tokens, letters handed to the
organisation, print runs, and incoming post (replies and returned envelopes).

Reviewed by hand: new tables only, nothing existing changes. The new account roles (mailroom,
translator) need no change to the ``user.role`` column, a string without a check constraint.
One print run of each kind at a time is at work: a partial unique index on the active runs, as
for drives' print jobs. The downgrade drops the tables (and what they held).

Revision ID: 8f7a5ba01380
Revises: 9c3e5a7d2b11
Create Date: 2026-12-07 20:42:49.446484

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f7a5ba01380'
down_revision = '9c3e5a7d2b11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('return_address', sa.Text(), nullable=False),
    sa.Column('postcode', sa.String(length=12), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('mailroom_open', sa.Boolean(), nullable=False),
    sa.Column('reply_window_days', sa.Integer(), nullable=False),
    sa.Column('daily_intake_cap', sa.Integer(), nullable=False),
    sa.Column('prisoner_daily_cap', sa.Integer(), nullable=False),
    sa.Column('next_run_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_on', sa.Date(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('print_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('paper', 'electronic', name='printrunkind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='printjobstatus', native_enum=False, length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('letters_file_id', sa.Integer(), nullable=True),
    sa.Column('envelopes_file_id', sa.Integer(), nullable=True),
    sa.Column('cover_file_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('posted_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['cover_file_id'], ['stored_file.id'], name=op.f('fk_print_run_cover_file_id_stored_file'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_print_run_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['envelopes_file_id'], ['stored_file.id'], name=op.f('fk_print_run_envelopes_file_id_stored_file'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letters_file_id'], ['stored_file.id'], name=op.f('fk_print_run_letters_file_id_stored_file'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_run'))
    )
    with op.batch_alter_table('print_run', schema=None) as batch_op:
        batch_op.create_index('uq_print_run_active', ['kind'], unique=True, sqlite_where=sa.text("status IN ('queued', 'running')"), postgresql_where=sa.text("status IN ('queued', 'running')"))

    op.create_table('incoming_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reply', 'return', name='incomingkind', native_enum=False, length=20), nullable=False),
    sa.Column('state', sa.Enum('held', 'matched', 'unmatched', name='incomingstate', native_enum=False, length=20), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference_typed', sa.String(length=20), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=True),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('scan_file_id', sa.Integer(), nullable=True),
    sa.Column('sealed', sa.Boolean(), nullable=False),
    sa.Column('return_reason', sa.Enum('moved', 'unknown_addressee', 'refused', 'censorship', 'other', name='returnreason', native_enum=False, length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delete_after', sa.Date(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user.id'], name=op.f('fk_incoming_mail_handled_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_incoming_mail_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoner.id'], name=op.f('fk_incoming_mail_prisoner_id_prisoner'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scan_file_id'], ['stored_file.id'], name=op.f('fk_incoming_mail_scan_file_id_stored_file'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_mail'))
    )
    with op.batch_alter_table('incoming_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_mail_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_mail_prisoner_id'), ['prisoner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_mail_state'), ['state'], unique=False)

    op.create_table('mailroom_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=8), nullable=False),
    sa.Column('state', sa.Enum('review', 'sent_back', 'approved', 'rejected', 'printed', 'posted', 'returned', name='mailroomstate', native_enum=False, length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('writer_reason_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('rejection_reason_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('resubmissions', sa.Integer(), nullable=False),
    sa.Column('print_run_id', sa.Integer(), nullable=True),
    sa.Column('posted_on', sa.Date(), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('return_reason', sa.Enum('moved', 'unknown_addressee', 'refused', 'censorship', 'other', name='returnreason', native_enum=False, length=20), nullable=True),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_mailroom_item_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['print_run_id'], ['print_run.id'], name=op.f('fk_mailroom_item_print_run_id_print_run'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user.id'], name=op.f('fk_mailroom_item_reviewer_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailroom_item')),
    sa.UniqueConstraint('letter_id', name=op.f('uq_mailroom_item_letter_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_mailroom_item_reference'))
    )
    with op.batch_alter_table('mailroom_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailroom_item_print_run_id'), ['print_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailroom_item_state'), ['state'], unique=False)



def downgrade():
    with op.batch_alter_table('mailroom_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailroom_item_state'))
        batch_op.drop_index(batch_op.f('ix_mailroom_item_print_run_id'))

    op.drop_table('mailroom_item')
    with op.batch_alter_table('incoming_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incoming_mail_state'))
        batch_op.drop_index(batch_op.f('ix_incoming_mail_prisoner_id'))
        batch_op.drop_index(batch_op.f('ix_incoming_mail_letter_id'))

    op.drop_table('incoming_mail')
    with op.batch_alter_table('print_run', schema=None) as batch_op:
        batch_op.drop_index('uq_print_run_active', sqlite_where=sa.text("status IN ('queued', 'running')"), postgresql_where=sa.text("status IN ('queued', 'running')"))

    op.drop_table('print_run')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('organisation')
