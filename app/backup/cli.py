"""`flask backup create DIR` and `flask backup restore DIR` (see the README, "Backups")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import update

from app.backup.manifest import BackupError, Manifest
from app.backup.restore import Restored, restore_backup
from app.backup.services import COUNTED, count_rows, create_backup
from app.extensions import db

backup_cli = AppGroup("backup", help="Back up this instance, and restore a backup.")
FOLDER = click.Path(file_okay=False, path_type=Path)


def _counted(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "not counted"
    return ", ".join(f"{counts[name]} {name}" for name in COUNTED if name in counts)


def _size(size: int | None) -> str:
    if size is None:
        return "not made yet"
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _show_files(manifest: Manifest) -> None:
    for item in manifest.files:
        digest = f"sha256 {item.sha256[:16]}…" if item.sha256 else "no checksum"
        click.echo(f"  {item.name:<18} {item.role:<9} {_size(item.size):>12}  {digest}")


@backup_cli.command("create")
@click.argument("folder", type=FOLDER)
def create(folder: Path) -> None:
    """Make a consistent backup of the database, the job queue and the secrets in FOLDER
    (a new or empty folder), while Konvert keeps running."""
    try:
        created = create_backup(folder)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    manifest = created.manifest
    click.echo(
        f"backup: {folder} ({manifest.database}, migration {manifest.alembic_revision}, "
        f"Konvert {manifest.konvert_version}, {manifest.created_at})"
    )
    _show_files(manifest)
    click.echo(f"  database: {_counted(manifest.counts)}")
    for note in created.notes:
        click.echo(f"note: {note}")
    click.echo(
        "The backup holds the secret key and every key of the instance: keep it as safe as "
        "the server itself."
    )
    if manifest.pending_command:
        raise SystemExit(1)  # a backup without its database is not done


def _recount() -> str:
    """Recount what the database keeps pre-computed: outcomes, /stats, facility figures and
    recent letter counts, as `flask stats rebuild` and the directory's daily job do."""
    from app.directory.recent import MARKER, ensure_counted
    from app.models import StatsSnapshot
    from app.stats.outcomes import rebuild_all_outcomes
    from app.stats.overview import refresh_overview_now
    from app.stats.services import precompute_facility_figures

    today = date.today()
    letters = rebuild_all_outcomes(db.session.connection())
    db.session.execute(update(StatsSnapshot).where(StatsSnapshot.key == MARKER).values(stale=True))
    ensure_counted(today)
    db.session.commit()
    refresh_overview_now(today)
    facilities = precompute_facility_figures(today)
    db.session.commit()
    return f"{letters} letter outcomes, recent letter counts, overview and {facilities} facilities"


def _compare(restored: Restored, counts: dict[str, int]) -> None:
    expected = restored.manifest.counts
    if expected is None:
        click.echo(f"restored database: {_counted(counts)}")
        return
    differ = {name: value for name, value in expected.items() if counts.get(name) != value}
    if differ:
        raise click.ClickException(
            f"the restored database holds {_counted(counts)}, but the backup recorded "
            f"{_counted(expected)}"
        )
    click.echo(f"restored database: {_counted(counts)} (as in the backup)")


@backup_cli.command("restore")
@click.argument("folder", type=FOLDER)
@click.option(
    "--force",
    is_flag=True,
    help=(
        "Replace the database even if it holds data, for good. Never while it is in use: "
        "stop every web process and job consumer of the instance first."
    ),
)
@click.option(
    "--database-restored",
    is_flag=True,
    help="The database was restored by hand with pg_restore: restore the rest and check it.",
)
def restore(folder: Path, force: bool, database_restored: bool) -> None:
    """Restore the backup in FOLDER into this instance (whose database must be empty unless
    --force, and used by no other process), check the database and recount the statistics."""
    try:
        restored = restore_backup(folder, force=force, database_restored=database_restored)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    manifest = restored.manifest
    click.echo(
        f"restore: {folder} ({manifest.database}, made {manifest.created_at} by Konvert "
        f"{manifest.konvert_version}); {restored.checked} of {len(manifest.files)} files "
        "matched their checksums"
    )
    if restored.replaced:
        click.echo(f"replaced (--force): what the instance held, {_counted(restored.replaced)}")
    click.echo(f"restored: {', '.join(restored.restored)}")
    for check in restored.checks:
        click.echo(f"checked: {check}")
    click.echo(f"recounted: {_recount()}")
    with db.engine.connect() as connection:
        counts = count_rows(connection)
    for note in restored.notes:
        click.echo(f"note: {note}")
    _compare(restored, counts)
