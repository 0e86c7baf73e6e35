"""Files in the database (print packs first) and leases for print jobs.

Reviewed by hand. stored_file holds a file's kind, media type, size and SHA-256; its content is
in stored_file_chunk rows (BLOB on SQLite, bytea on PostgreSQL) of at most 1 MiB, deleted with
it. print_job.file_name (a file in the instance folder's packs/) is replaced by file_id, a
foreign key that becomes NULL when the pack is deleted (the job row stays, so the download
can say the pack is gone), and print_job gets lease_until, renewed while a job runs.

Packs already built are moved into the database when this machine's instance folder has them,
and their files deleted (they hold letters in clear text, and nothing deletes that folder any
more); a job whose file is not here reads as "no longer kept". Jobs still queued or running
have no lease: the first sweep ends them as interrupted, so they can be built again.

The downgrade drops the packs kept in the database (their jobs read as "no longer kept").

Revision ID: cdb64746f187
Revises: 5d0c2b7e9a41
Create Date: 2026-12-08 10:00:00.000000

"""
import hashlib
from pathlib import Path

from alembic import context, op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cdb64746f187'
down_revision = '5d0c2b7e9a41'
branch_labels = None
depends_on = None

CHUNK_BYTES = 1024 * 1024


def upgrade():
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('byte_size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file'))
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_kind'), ['kind'], unique=False)

    op.create_table('stored_file_chunk',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_stored_file_chunk_file_id_stored_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'seq', name=op.f('pk_stored_file_chunk'))
    )

    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_print_job_file_id'), ['file_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_print_job_file_id_stored_file'), 'stored_file', ['file_id'], ['id'], ondelete='SET NULL')

    _move_packs_into_the_database()

    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.drop_column('file_name')


def _packs_folder():
    """This machine's packs folder, when the migration runs inside the app (flask db upgrade)."""
    if context.is_offline_mode():
        return None  # SQL printed for someone else to run: no files to read here
    try:
        from flask import current_app

        return Path(current_app.instance_path) / "packs"
    except RuntimeError:  # no app context
        return None


def _move_packs_into_the_database():
    folder = _packs_folder()
    if folder is None or not folder.is_dir():
        return
    connection = op.get_bind()
    jobs = sa.table('print_job', sa.column('id'), sa.column('file_name'), sa.column('file_id'), sa.column('finished_at'))
    files = sa.table('stored_file', sa.column('id'), sa.column('kind'), sa.column('media_type'), sa.column('byte_size'), sa.column('sha256'), sa.column('created_at'))
    chunks = sa.table('stored_file_chunk', sa.column('file_id'), sa.column('seq'), sa.column('data'))
    named = connection.execute(
        sa.select(jobs.c.id, jobs.c.file_name, jobs.c.finished_at).where(jobs.c.file_name.is_not(None))
    ).all()
    for job_id, file_name, finished_at in named:
        path = folder / file_name
        if path.parent != folder or not path.is_file():
            continue
        content = path.read_bytes()
        file_id = connection.execute(
            files.insert().values(
                kind='print_pack', media_type='application/pdf', byte_size=len(content),
                sha256=hashlib.sha256(content).hexdigest(), created_at=finished_at or sa.func.now(),
            ).returning(files.c.id)
        ).scalar_one()
        for seq, start in enumerate(range(0, len(content), CHUNK_BYTES)):
            connection.execute(chunks.insert().values(file_id=file_id, seq=seq, data=content[start:start + CHUNK_BYTES]))
        connection.execute(jobs.update().where(jobs.c.id == job_id).values(file_id=file_id))
    # The packs (and any half-written .part) are in the database now, or were no job's.
    for path in folder.iterdir():
        if path.is_file():
            path.unlink()
    try:
        folder.rmdir()
    except OSError:
        pass  # something else was put there: not ours to delete


def downgrade():
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_name', sa.String(length=200), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_print_job_file_id_stored_file'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_print_job_file_id'))
        batch_op.drop_column('lease_until')
        batch_op.drop_column('file_id')

    op.drop_table('stored_file_chunk')
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_kind'))

    op.drop_table('stored_file')
