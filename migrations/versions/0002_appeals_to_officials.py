"""Appeals to officials: the official table, appeal fields on letters, extension days.

Reviewed by hand: existing letters become kind "letter" through the server default; the new
event kinds (extended, refused) need no schema change because enums are stored as strings
without a CHECK constraint; downgrade drops the foreign key before the table it points to.

Revision ID: 0970716df8cf
Revises: 7a4555a2e093
Create Date: 2026-11-23 14:53:53.252049

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0970716df8cf'
down_revision = '7a4555a2e093'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('official',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.Enum('facility_head', 'regional_directorate', 'prosecutor', 'regional_ombudsman', 'monitoring_commission', 'federal_service', 'prosecutor_general', 'ombudsman', name='officialkind', native_enum=False, length=30), nullable=False),
    sa.Column('position', sa.String(length=300), nullable=False),
    sa.Column('position_dative', sa.String(length=300), nullable=False),
    sa.Column('organisation', sa.String(length=300), nullable=False),
    sa.Column('street_address', sa.String(length=300), nullable=False),
    sa.Column('locality', sa.String(length=150), nullable=False),
    sa.Column('region', sa.String(length=150), nullable=False),
    sa.Column('postcode', sa.String(length=12), nullable=False),
    sa.Column('jurisdiction', sa.Enum('facility', 'region', 'federal', name='jurisdiction', native_enum=False, length=20), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('jurisdiction_region', sa.String(length=150), nullable=True),
    sa.Column('source_url', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_official_facility_id_facility')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official')),
    sa.UniqueConstraint('external_id', name=op.f('uq_official_external_id'))
    )
    with op.batch_alter_table('official', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_official_jurisdiction_region'), ['jurisdiction_region'], unique=False)

    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_letter_pages', sa.Integer(), nullable=True))

    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('letter', 'appeal', name='templatekind', native_enum=False, length=20), server_default='letter', nullable=False))
        batch_op.add_column(sa.Column('official_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sender_address', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_letter_official_id'), ['official_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_letter_official_id_official'), 'official', ['official_id'], ['id'])

    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extension_days', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('mail_event', schema=None) as batch_op:
        batch_op.drop_column('extension_days')

    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_letter_official_id_official'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_letter_official_id'))
        batch_op.drop_column('sender_address')
        batch_op.drop_column('official_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_column('max_letter_pages')

    with op.batch_alter_table('official', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_jurisdiction_region'))
        batch_op.drop_index(batch_op.f('ix_official_facility_id'))

    op.drop_table('official')
