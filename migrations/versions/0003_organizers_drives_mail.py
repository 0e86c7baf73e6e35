"""Organizers and drives: accounts, invitations, resets, audit trail, drives, participants,
assignments, print jobs, the mail outbox, reminder subscriptions and follows.

Reviewed by hand: "user" is quoted by SQLAlchemy where the dialect needs it (a reserved word
in PostgreSQL); emails of supporters live only in reminder_subscription and follow, never on
letters; downgrade drops the letter.drive_id foreign key before the drive table.

Revision ID: bef92e41d1d0
Revises: 0970716df8cf
Create Date: 2026-11-23 15:25:56.736627

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bef92e41d1d0'
down_revision = '0970716df8cf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'dead', name='outboxstatus', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.Enum('organizer', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('entity_type', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_audit_entry_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_user_id'), ['user_id'], unique=False)

    op.create_table('drive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('join_token', sa.String(length=64), nullable=False),
    sa.Column('target_per_prisoner', sa.Integer(), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organizer_id'], ['user.id'], name=op.f('fk_drive_organizer_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drive')),
    sa.UniqueConstraint('code', name=op.f('uq_drive_code')),
    sa.UniqueConstraint('join_token', name=op.f('uq_drive_join_token'))
    )
    with op.batch_alter_table('drive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drive_organizer_id'), ['organizer_id'], unique=False)

    op.create_table('follow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoner.id'], name=op.f('fk_follow_prisoner_id_prisoner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow')),
    sa.UniqueConstraint('token', name=op.f('uq_follow_token'))
    )
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_prisoner_id'), ['prisoner_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.Enum('organizer', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_invitation_invited_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    op.create_table('password_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_password_reset_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_hash'))
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_user_id'), ['user_id'], unique=False)

    op.create_table('drive_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('languages', sa.String(length=50), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['drive_id'], ['drive.id'], name=op.f('fk_drive_participant_drive_id_drive'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drive_participant')),
    sa.UniqueConstraint('token', name=op.f('uq_drive_participant_token'))
    )
    with op.batch_alter_table('drive_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drive_participant_drive_id'), ['drive_id'], unique=False)

    op.create_table('drive_prisoner',
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['drive_id'], ['drive.id'], name=op.f('fk_drive_prisoner_drive_id_drive'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoner.id'], name=op.f('fk_drive_prisoner_prisoner_id_prisoner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('drive_id', 'prisoner_id', name=op.f('pk_drive_prisoner'))
    )
    op.create_table('drive_template',
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['drive_id'], ['drive.id'], name=op.f('fk_drive_template_drive_id_drive'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'], name=op.f('fk_drive_template_template_id_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('drive_id', 'template_id', name=op.f('pk_drive_template'))
    )
    op.create_table('print_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='printjobstatus', native_enum=False, length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['drive_id'], ['drive.id'], name=op.f('fk_print_job_drive_id_drive'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_job'))
    )
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_job_drive_id'), ['drive_id'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['drive_id'], ['drive.id'], name=op.f('fk_assignment_drive_id_drive'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_assignment_letter_id_letter')),
    sa.ForeignKeyConstraint(['participant_id'], ['drive_participant.id'], name=op.f('fk_assignment_participant_id_drive_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoner.id'], name=op.f('fk_assignment_prisoner_id_prisoner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('participant_id', 'prisoner_id', name=op.f('uq_assignment_participant_id_prisoner_id'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_drive_id'), ['drive_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_prisoner_id'), ['prisoner_id'], unique=False)

    op.create_table('reminder_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reminded_14_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_45_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_reminder_subscription_letter_id_letter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_subscription')),
    sa.UniqueConstraint('letter_id', name=op.f('uq_reminder_subscription_letter_id')),
    sa.UniqueConstraint('token', name=op.f('uq_reminder_subscription_token'))
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drive_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('printed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_letter_drive_id'), ['drive_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_letter_drive_id_drive'), 'drive', ['drive_id'], ['id'])



def downgrade():
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_letter_drive_id_drive'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_letter_drive_id'))
        batch_op.drop_column('printed_at')
        batch_op.drop_column('drive_id')

    op.drop_table('reminder_subscription')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_prisoner_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_participant_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_letter_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_drive_id'))

    op.drop_table('assignment')
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_job_drive_id'))

    op.drop_table('print_job')
    op.drop_table('drive_template')
    op.drop_table('drive_prisoner')
    with op.batch_alter_table('drive_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drive_participant_drive_id'))

    op.drop_table('drive_participant')
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_user_id'))

    op.drop_table('password_reset')
    op.drop_table('invitation')
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_prisoner_id'))

    op.drop_table('follow')
    with op.batch_alter_table('drive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drive_organizer_id'))

    op.drop_table('drive')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_entity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))

    op.drop_table('audit_entry')
    op.drop_table('user')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_due')

    op.drop_table('outbox_message')
