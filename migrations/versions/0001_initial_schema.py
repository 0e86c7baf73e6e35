"""Initial schema: facilities, prisoners and placements, templates, letters and mail events.

Reviewed by hand: constraint names follow app.extensions.NAMING_CONVENTION; enums are
stored as short strings (portable to PostgreSQL); one open placement per prisoner is enforced
by a partial unique index.

Revision ID: 7a4555a2e093
Revises: 
Create Date: 2026-11-23 14:38:46.202019

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a4555a2e093'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('pretrial', 'colony', 'prison', 'settlement', 'hospital', 'other', name='facilitykind', native_enum=False, length=20), nullable=False),
    sa.Column('region', sa.String(length=150), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('postcode', sa.String(length=12), nullable=False),
    sa.Column('locality', sa.String(length=150), nullable=False),
    sa.Column('street_address', sa.String(length=300), nullable=False),
    sa.Column('electronic_services', sa.String(length=200), nullable=False),
    sa.Column('mail_rules', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facility')),
    sa.UniqueConstraint('external_id', name=op.f('uq_facility_external_id'))
    )
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facility_region'), ['region'], unique=False)

    op.create_table('prisoner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('patronymic', sa.String(length=100), nullable=True),
    sa.Column('last_name_latin', sa.String(length=100), nullable=True),
    sa.Column('first_name_latin', sa.String(length=100), nullable=True),
    sa.Column('gender', sa.Enum('m', 'f', name='gender', native_enum=False, length=20), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pretrial', 'convicted', 'in_transit', 'released', 'deceased', name='prisonerstatus', native_enum=False, length=20), nullable=False),
    sa.Column('case_summary', sa.Text(), nullable=False),
    sa.Column('detained_on', sa.Date(), nullable=True),
    sa.Column('sentence', sa.String(length=300), nullable=False),
    sa.Column('languages', sa.String(length=100), nullable=False),
    sa.Column('interests', sa.Text(), nullable=False),
    sa.Column('notes_for_writers', sa.Text(), nullable=False),
    sa.Column('accepts_letters', sa.Boolean(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('name_overrides', sa.JSON(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prisoner')),
    sa.UniqueConstraint('external_id', name=op.f('uq_prisoner_external_id'))
    )
    with op.batch_alter_table('prisoner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prisoner_accepts_letters'), ['accepts_letters'], unique=False)
        batch_op.create_index(batch_op.f('ix_prisoner_status'), ['status'], unique=False)

    op.create_table('template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.Enum('letter', 'appeal', name='templatekind', native_enum=False, length=20), nullable=False),
    sa.Column('occasion', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('guidance', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template')),
    sa.UniqueConstraint('slug', 'language', name=op.f('uq_template_slug_language'))
    )
    op.create_table('letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_letter_facility_id_facility')),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoner.id'], name=op.f('fk_letter_prisoner_id_prisoner')),
    sa.ForeignKeyConstraint(['template_id'], ['template.id'], name=op.f('fk_letter_template_id_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter')),
    sa.UniqueConstraint('token', name=op.f('uq_letter_token'))
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index('ix_letter_prisoner_created', ['prisoner_id', 'created_at'], unique=False)

    op.create_table('placement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prisoner_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_placement_facility_id_facility')),
    sa.ForeignKeyConstraint(['prisoner_id'], ['prisoner.id'], name=op.f('fk_placement_prisoner_id_prisoner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement'))
    )
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placement_prisoner_id'), ['prisoner_id'], unique=False)
        batch_op.create_index('uq_placement_open_per_prisoner', ['prisoner_id'], unique=True, sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))

    op.create_table('mail_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('sent', 'arrived', 'reply', 'returned', 'withheld', 'no_news', name='eventkind', native_enum=False, length=20), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('channel', sa.Enum('post', 'registered', 'electronic', 'organisation', 'lawyer', 'in_person', name='channel', native_enum=False, length=20), nullable=True),
    sa.Column('tracking_number', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_mail_event_letter_id_letter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_event'))
    )
    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.create_index('ix_mail_event_kind_happened', ['kind', 'happened_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_event_letter_id'), ['letter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_event_letter_id'))
        batch_op.drop_index('ix_mail_event_kind_happened')

    op.drop_table('mail_event')
    with op.batch_alter_table('placement', schema=None) as batch_op:
        batch_op.drop_index('uq_placement_open_per_prisoner', sqlite_where=sa.text('ended_on IS NULL'), postgresql_where=sa.text('ended_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_placement_prisoner_id'))
        batch_op.drop_index(batch_op.f('ix_placement_facility_id'))

    op.drop_table('placement')
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_prisoner_created')
        batch_op.drop_index(batch_op.f('ix_letter_facility_id'))

    op.drop_table('letter')
    op.drop_table('template')
    with op.batch_alter_table('prisoner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prisoner_status'))
        batch_op.drop_index(batch_op.f('ix_prisoner_accepts_letters'))

    op.drop_table('prisoner')
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facility_region'))

    op.drop_table('facility')
