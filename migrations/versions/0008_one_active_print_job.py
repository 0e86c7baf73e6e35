"""Print jobs: at most one queued or running per drive, kept by a partial unique index.

Reviewed by hand. Two clicks on "build" at the same moment used to make two jobs; the
index uq_print_job_active_per_drive (drive_id, where status is queued or running) now
refuses the second, and the build request answers "already being built". Both SQLite and
PostgreSQL have partial indexes.

A drive that already has several active jobs (made by that race, or stuck "running" since a
consumer died) keeps its newest one; the older ones are marked failed, "interrupted", so
that the index can be built. Nothing else changes. The downgrade drops the index and leaves
the jobs as they are.

Revision ID: 5d0c2b7e9a41
Revises: 0212507e65d8
Create Date: 2026-12-07 12:00:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d0c2b7e9a41'
down_revision = '0212507e65d8'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('queued', 'running')"


def upgrade():
    # Times are stored naive, in UTC (app.models.base.utcnow).
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.execute(
        sa.text(
            "UPDATE print_job SET status = 'failed', error = 'interrupted', finished_at = :now "
            f"WHERE {ACTIVE} AND id NOT IN "
            f"(SELECT MAX(id) FROM print_job WHERE {ACTIVE} GROUP BY drive_id)"
        ).bindparams(now=now)
    )
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.create_index('uq_print_job_active_per_drive', ['drive_id'], unique=True, sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))


def downgrade():
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.drop_index('uq_print_job_active_per_drive', sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
