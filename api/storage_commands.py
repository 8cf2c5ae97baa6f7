"""`flask --app wsgi storage check [--repair]`: do the photo rows and the photo files agree?"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from services import photos as album
from api.database import db
from storage import consistency, photo_records

storage_cli = AppGroup("storage", help="Photo files and the rows that point to them.")


@storage_cli.command("check")
@click.option("--repair", is_flag=True,
              help="Remove files no row refers to, once an hour old; drop expired uploads.")
def check(repair: bool) -> None:
    """Report photos with missing or mismatched files, and files with no photo.

    Exits with 1 while anything is wrong (after the repair, with --repair).
    """
    session, store = db(), album.blob_store()
    if repair:
        click.echo(f"expired uploads dropped: {album.purge_expired_uploads(session, store)}")
    photos = photo_records.count_photos(session)
    with click.progressbar(photo_records.photo_files(session), length=photos,
                           label="checking photos") as rows:
        broken = consistency.check_rows(store, rows)
    files = list(store.files())
    with click.progressbar(files, label="checking files") as listed:
        orphans = consistency.find_orphans(session, listed)
    for finding in broken:
        click.echo(f"{finding.kind:<11} photo {finding.photo_id}  {finding.path}")
    for orphan in orphans:
        click.echo(f"{orphan.kind:<11} {orphan.age.total_seconds() / 3600:.1f} h old  "
                   f"{orphan.path}")
    removed = consistency.remove_orphans(session, store, orphans) if repair else 0
    counts = {kind: sum(1 for finding in broken if finding.kind == kind)
              for kind in (consistency.MISSING, consistency.MISMATCHED)}
    click.echo(f"{photos} photos, {len(files)} files: {counts[consistency.MISSING]} missing, "
               f"{counts[consistency.MISMATCHED]} mismatched, {len(orphans)} orphans"
               + (f" ({removed} removed)" if repair else ""))
    if broken or len(orphans) > removed:
        raise SystemExit(1)
