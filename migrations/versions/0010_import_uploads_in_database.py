"""Import uploads waiting for their confirmation are kept in the database.

Reviewed by hand. import_upload holds a file uploaded for import between its dry run and its
confirmation, so that any machine can serve the confirmation: a keyed hash of the token (never
the token), the uploader (deleted with their account), the kind of list, the file's own name,
when it was uploaded and when it expires (an hour later), and its content as a stored_file
(kind "import_upload"), whose deletion deletes the upload with it.

Uploads waiting in this machine's instance folder (import-uploads/) are deleted, not moved: they
expire within the hour anyway, and hold prisoner data in clear text that nothing would delete
any more. An organizer who was about to confirm one uploads the file again ("expired").

The downgrade drops the waiting uploads and their files (the same: upload again).

Revision ID: ad7765f7f3c3
Revises: cdb64746f187
Create Date: 2026-12-09 10:00:00.000000

"""
import re
from pathlib import Path

from alembic import context, op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ad7765f7f3c3'
down_revision = 'cdb64746f187'
branch_labels = None
depends_on = None

#: What the old code wrote there: <token>.data and <token>.json, the token 43 URL-safe characters.
OLD_UPLOAD = re.compile(r"^[A-Za-z0-9_-]{43}\.(data|json)$")


def upgrade():
    op.create_table('import_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_import_upload_file_id_stored_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_import_upload_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_upload')),
    sa.UniqueConstraint('file_id', name=op.f('uq_import_upload_file_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_import_upload_token_hash'))
    )
    with op.batch_alter_table('import_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_upload_user_id'), ['user_id'], unique=False)

    _delete_uploads_from_the_instance_folder()


def _uploads_folder():
    """This machine's old uploads folder, when the migration runs inside the app."""
    if context.is_offline_mode():
        return None  # SQL printed for someone else to run: no files of theirs here
    try:
        from flask import current_app

        return Path(current_app.instance_path) / "import-uploads"
    except RuntimeError:  # no app context
        return None


def _delete_uploads_from_the_instance_folder():
    folder = _uploads_folder()
    if folder is None or not folder.is_dir():
        return
    for path in folder.iterdir():
        if OLD_UPLOAD.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # something else was put there: not ours to delete


def downgrade():
    with op.batch_alter_table('import_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_upload_user_id'))

    op.drop_table('import_upload')
    # The chunks first: foreign keys may not be enforced on the connection that runs this.
    files = sa.table('stored_file', sa.column('id'), sa.column('kind'))
    chunks = sa.table('stored_file_chunk', sa.column('file_id'))
    uploaded = sa.select(files.c.id).where(files.c.kind == 'import_upload')
    op.execute(chunks.delete().where(chunks.c.file_id.in_(uploaded)))
    op.execute(files.delete().where(files.c.kind == 'import_upload'))
