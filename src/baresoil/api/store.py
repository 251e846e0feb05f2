"""The job store: jobs and their log lines in SQL, SQLite in the server's folder by default.

SQLAlchemy Core over a URL, so a PostgreSQL URL (``postgresql+psycopg://…``, with its driver installed)
goes through the same code.  Every write is its own transaction: a job's state on disk is always one
the server reached, whatever stops it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

STATUSES = ("created", "queued", "running", "canceled", "finished", "error")
"""openEO's job states."""

_META = sa.MetaData()
JOBS = sa.Table(
    "jobs",
    _META,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("user", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("process", sa.Text, nullable=False),
    # the process graph as the client sent it (JSON)
    sa.Column("result_key", sa.String(64), nullable=False),
    # where the result is kept (results/<key>): the same for identical requests
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("message", sa.Text),
    # why the job failed or was stopped
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)
LOGS = sa.Table(
    "logs",
    _META,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(40), nullable=False, index=True),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class JobRecord:
    id: str
    user: str
    title: str | None
    description: str | None
    process: dict[str, Any]
    result_key: str
    status: str
    progress: float
    message: str | None
    attempts: int
    created: datetime
    updated: datetime

    @classmethod
    def of(cls, row: Any) -> JobRecord:
        fields = dict(row)
        fields["process"] = json.loads(fields["process"])
        return cls(**fields)


def database_url(workdir: Path, url: str | None) -> str:
    return url or f"sqlite:///{(workdir / 'jobs.sqlite').resolve()}"


class JobStore:
    def __init__(self, url: str) -> None:
        args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=args)
        _META.create_all(self.engine)

    def create(
        self,
        job_id: str,
        user: str,
        process: dict[str, Any],
        result_key: str,
        title: str | None = None,
        description: str | None = None,
    ) -> JobRecord:
        moment = now()
        values = dict(
            id=job_id,
            user=user,
            title=title,
            description=description,
            process=json.dumps(process),
            result_key=result_key,
            status="created",
            progress=0.0,
            message=None,
            attempts=0,
            created=moment,
            updated=moment,
        )
        with self.engine.begin() as conn:
            conn.execute(JOBS.insert().values(**values))
        return self.get(job_id)

    def get(self, job_id: str) -> JobRecord:
        with self.engine.connect() as conn:
            row = conn.execute(JOBS.select().where(JOBS.c.id == job_id)).mappings().first()
        if row is None:
            raise KeyError(job_id)
        return JobRecord.of(row)

    def of_user(self, user: str) -> list[JobRecord]:
        query = JOBS.select().where(JOBS.c.user == user).order_by(JOBS.c.created)
        with self.engine.connect() as conn:
            return [JobRecord.of(row) for row in conn.execute(query).mappings()]

    def with_status(self, *statuses: str) -> list[JobRecord]:
        query = JOBS.select().where(JOBS.c.status.in_(statuses)).order_by(JOBS.c.created)
        with self.engine.connect() as conn:
            return [JobRecord.of(row) for row in conn.execute(query).mappings()]

    def update(self, job_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(JOBS.update().where(JOBS.c.id == job_id).values(updated=now(), **values))

    def set_status_if(self, job_id: str, allowed: tuple[str, ...], **values: Any) -> bool:
        """Change a job only if its status is one of ``allowed`` (atomic); returns whether it did."""
        query = JOBS.update().where(JOBS.c.id == job_id, JOBS.c.status.in_(allowed))
        with self.engine.begin() as conn:
            return conn.execute(query.values(updated=now(), **values)).rowcount == 1

    def delete(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(LOGS.delete().where(LOGS.c.job_id == job_id))
            conn.execute(JOBS.delete().where(JOBS.c.id == job_id))

    def others_with_key(self, result_key: str, job_id: str) -> int:
        query = sa.select(sa.func.count()).where(JOBS.c.result_key == result_key, JOBS.c.id != job_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def log(self, job_id: str, level: str, message: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(LOGS.insert().values(job_id=job_id, time=now(), level=level, message=message))

    def logs(self, job_id: str, after: int = 0) -> list[dict[str, Any]]:
        query = LOGS.select().where(LOGS.c.job_id == job_id, LOGS.c.seq > after).order_by(LOGS.c.seq)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
