"""Operator commands: `flask --app wsgi db upgrade`, `users create-clinician`, `seed-demo`,
`export course ID --out FILE`, `storage check [--repair]`, `maintenance purge`."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from api import jobs as queue_jobs
from api.database import db, photo_store
from domain.roles import CLINICIAN, PATIENT
from services.accounts import hash_password
from services.retention import purge_expired_uploads
from storage import consistency, migrate, photo_records
from storage.models import User, utcnow

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
users_cli = AppGroup("users", help="User accounts.")
digests_cli = AppGroup("digests", help="Course status facts and triage digests.")
export_cli = AppGroup("export", help="Exports, written to files.")
storage_cli = AppGroup("storage", help="Photo files and the rows that point to them.")
maintenance_cli = AppGroup("maintenance", help="Housekeeping to schedule (cron, systemd timer).")
jobs_cli = AppGroup("jobs", help="The job queue: its workers, and jobs that failed.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION (default: the latest)."""
    migrate.upgrade(current_app.extensions["database"].engine, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert the migrations down to REVISION."""
    migrate.downgrade(current_app.extensions["database"].engine, revision)
    click.echo(f"database at {revision}")


@users_cli.command("create-clinician")
@click.argument("email")
@click.option("--name", required=True, help="Name shown to patients.")
@click.option("--timezone", default="UTC", show_default=True)
@click.password_option(help="Asked twice when not given; can be piped in.")
def create_clinician(email: str, name: str, timezone: str, password: str) -> None:
    """Create a clinician account (clinicians cannot register themselves)."""
    from schemas.accounts import PASSWORD
    from schemas.common import known_time_zones

    email = email.strip().lower()
    if timezone not in known_time_zones():
        raise click.BadParameter("not a known IANA time zone", param_hint="--timezone")
    if not PASSWORD.min <= len(password) <= PASSWORD.max:
        raise click.BadParameter(f"must be {PASSWORD.min}-{PASSWORD.max} characters",
                                 param_hint="password")
    session = db()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise click.ClickException(f"{email} already has an account")
    session.add(User(email=email, display_name=name, timezone=timezone, role=CLINICIAN,
                     password_hash=hash_password(password)))
    session.commit()
    click.echo(f"clinician {email} created")


@digests_cli.command("refresh")
def digests_refresh() -> None:
    """Recompute every course's status facts and every patient's triage digest
    (after an upgrade, or after records were changed outside the app)."""
    from services.courses import collect_facts
    from services.status_digests import refresh_digest
    from storage.models import Course

    session = db()
    patient_ids = session.scalars(select(User.id).where(User.role == PATIENT)).all()
    with click.progressbar(patient_ids, label="digests") as patients:
        for done, patient_id in enumerate(patients, start=1):
            for course in session.scalars(select(Course).where(Course.patient_id == patient_id)):
                course.status_facts = collect_facts(session, course)
            refresh_digest(session, patient_id)
            if done % 200 == 0:
                session.commit()
    session.commit()
    click.echo(f"{len(patient_ids)} patients refreshed")


@export_cli.command("course")
@click.argument("course_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The ZIP file to write.")
def export_course(course_id: int, out: str) -> None:
    """Write a course's ZIP export (photos, manifest, CSV tables) to FILE, as export.zip does."""
    from services.exports.course_data import load_course_export
    from services.exports.course_zip import course_members
    from services.exports.zip_stream import stream_zip
    from storage.models import Course

    course = db().get(Course, course_id)
    if course is None:
        raise click.ClickException(f"no course {course_id}")
    members = course_members(load_course_export(db(), course))
    # Written under another name first: an interrupted export leaves no truncated FILE.
    partial = f"{out}.part"
    with open(partial, "wb") as target, click.progressbar(
            members, label=f"course {course_id}",
            item_show_func=lambda member: member.name if member else None) as progress:
        for chunk in stream_zip(progress, photo_store()):
            target.write(chunk)
    os.replace(partial, out)
    click.echo(f"{len(members)} files, {os.path.getsize(out):,} bytes written to {out}")


@storage_cli.command("check")
@click.option("--repair", is_flag=True,
              help="Remove files no row refers to, once an hour old; drop expired uploads.")
def check(repair: bool) -> None:
    """Report photos with missing or mismatched files, and files with no photo.

    Photos whose preview and thumbnail the queue has not made yet are counted
    (a job that failed shows in `flask jobs list`), not an error. Exits with 1 while anything is wrong (after the repair, with --repair).
    """
    session, store = db(), photo_store()
    if repair:
        click.echo(f"expired uploads dropped: {purge_expired_uploads(session, store, utcnow())}")
    photos = photo_records.count_photos(session)
    with click.progressbar(photo_records.photo_files(session), length=photos,
                           label="checking photos") as rows:
        broken = consistency.check_rows(store, rows)
    files = list(store.files())
    with click.progressbar(files, label="checking files") as listed:
        orphans = consistency.find_orphans(session, listed)
    pending = [finding for finding in broken if finding.kind == consistency.PENDING]
    broken = [finding for finding in broken if finding.kind != consistency.PENDING]
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
               + (f" ({removed} removed)" if repair else "")
               + f", {len(pending)} with derivatives pending")
    if broken or len(orphans) > removed:
        raise SystemExit(1)


@maintenance_cli.command("purge")
def purge() -> None:
    """Delete what is kept only for a while: idempotent responses older than 24 hours,
    resumable uploads past their expiry with their bytes. Run it every hour."""
    purged = queue_jobs.purge(current_app._get_current_object())
    click.echo(f"purged {purged.idempotency_records} idempotent responses and "
               f"{purged.uploads} expired uploads"
               + (f" and {purged.exports} export files" if purged.exports else ""))


DEMO_EMAIL = "demo@scalpcourse.example"
DEMO_PASSWORD = "demo-password"


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Fill a demo patient with a realistic half-done intensive course."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from services.courses import status_of
    from storage.models import CheckIn, Course, Device, TreatmentSession

    session = db()
    if session.scalar(select(User.id).where(User.email == DEMO_EMAIL)) is not None:
        raise click.ClickException(f"{DEMO_EMAIL} exists already; nothing to do")
    zone = ZoneInfo("Europe/Berlin")
    today = datetime.now(zone).date()
    # Seven sessions done on time (at home the first two gaps are 10 days): the
    # five weekly ones, then two of the biweekly phase,
    # the last one 12 days ago, so session 8 is due in two days.
    gaps = [0, 10, 11, 7, 9, 14, 15]
    start = today - timedelta(days=sum(gaps) + 12)
    patient = User(email=DEMO_EMAIL, display_name="Demo Patient", timezone=zone.key,
                   role=PATIENT, password_hash=hash_password(DEMO_PASSWORD))
    session.add(patient)
    session.flush()
    roller = Device(patient_id=patient.id, kind="roller", needle_length_mm=0.5,
                    label="Titanium roller 0.5 mm", material="titanium")
    pen = Device(patient_id=patient.id, kind="pen", needle_length_mm=1.0, label="Clinic pen")
    course = Course(patient_id=patient.id, regimen="intensive", setting="home",
                    weekly_sessions=5, biweekly_sessions=5, start_date=start, status="active",
                    screening={"diabetes": False}, hold_reasons=[],
                    concurrent_therapies=["minoxidil 5 %", "biotin"])
    session.add_all([roller, pen, course])
    session.flush()
    day = start
    cocktail = {"name": "Growth peptide serum",
                "ingredients": ["copper peptides", "B vitamins", "hyaluronic acid"]}
    for number, gap in enumerate(gaps, start=1):
        day += timedelta(days=gap)
        device = pen if number in (1, 6) else roller
        row = TreatmentSession(
            course_id=course.id, device_id=device.id,
            performed_at=datetime.combine(day, time(20, 30), zone),
            needle_length_mm=device.needle_length_mm, duration_minutes=15,
            pain_score=3 + number % 3, cocktail=cocktail,
            areas=["frontal", "vertex", "mid_scalp"],
            side_effects=["redness"] if number % 2 else [],
            device_disinfected=True, new_cartridge=True if device is pen else None,
            logged_by_id=patient.id)
        session.add(row)
        session.flush()
        session.add(CheckIn(session_id=row.id, redness_persists=False,
                            swelling_persists=False, infection_signs=False))
    session.commit()
    status = status_of(session, course, zone)
    click.echo(f"demo patient {DEMO_EMAIL} / {DEMO_PASSWORD}: course {course.id}, "
               f"{status.sessions_done} sessions done, next "
               f"{status.next_session.number if status.next_session else '-'} due "
               f"{status.next_session.due if status.next_session else '-'}")


@jobs_cli.command("worker")
@click.option("--threads", default=2, show_default=True,
              help="Jobs run at once (image work releases the GIL: one per core).")
@click.option("--nice", "niceness", default=10, show_default=True,
              help="Added to the process's niceness, so the web workers come first.")
def jobs_worker(threads: int, niceness: int) -> None:
    """Run the queue's jobs and its periodic tasks until stopped (SIGINT or SIGTERM)."""
    if niceness:
        os.nice(niceness)
    tasks = queue_jobs.tasks()
    click.echo(f"worker: {threads} threads on {current_app.config['QUEUE_URL'].split('@')[-1]}"
               f", niceness {os.nice(0)}")
    tasks.queue.create_consumer(workers=threads, worker_type="thread", periodic=True,
                                initial_delay=0.05, backoff=1.5, max_delay=1.0).run()


@jobs_cli.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "done", "failed"]))
@click.option("--limit", default=50, show_default=True)
def jobs_list(status: str | None, limit: int) -> None:
    """The latest jobs (of one status), newest first, with why a failed one failed."""
    from storage import job_records

    session = db()
    counts = job_records.count_by_status(session)
    click.echo(", ".join(f"{counts.get(name, 0)} {name}"
                         for name in ("queued", "running", "done", "failed")))
    for job in job_records.jobs(session, status, limit):
        click.echo(f"{job.id:>8} {job.kind:<12} {job.subject_id:>8} {job.status:<8} "
                   f"tries {job.attempts}  {job.updated_at:%Y-%m-%d %H:%M:%S}"
                   + (f"  {job.error}" if job.error else ""))


@jobs_cli.command("retry")
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed job.")
def jobs_retry(job_ids: tuple[int, ...], all_failed: bool) -> None:
    """Try failed jobs again, their tries counted afresh."""
    from services import jobs
    from storage import job_records

    session = db()
    if all_failed:
        job_ids = tuple(job.id for job in job_records.jobs(session, "failed", limit=100_000))
    if not job_ids:
        raise click.UsageError("name the jobs to retry, or say --all-failed")
    retried = jobs.retry(session, job_ids, queue_jobs.tasks().run_job)
    click.echo(f"retried {len(retried)} of {len(job_ids)} jobs"
               + (f" (not failed: {sorted(set(job_ids) - set(retried))})"
                  if len(retried) < len(job_ids) else ""))


@jobs_cli.command("send-again")
def jobs_send_again() -> None:
    """Send again the jobs whose message may be lost (what the workers do every minute)."""
    from datetime import timedelta

    from services import jobs

    sent = jobs.send_again(db(), queue_jobs.tasks().run_job, unsent_after=timedelta(
        seconds=current_app.config["JOB_RESEND_AFTER_S"]))
    click.echo(f"sent {sent} jobs again")


def register_commands(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(digests_cli)
    app.cli.add_command(storage_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(maintenance_cli)
    app.cli.add_command(seed_demo)
