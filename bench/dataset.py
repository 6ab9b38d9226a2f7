"""Generates the benchmark data set in PostgreSQL with COPY, then derives current values and enrollments in SQL."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from access import keys
from db.migrate import upgrade


@dataclass(frozen=True)
class Size:
    courses: int = 20
    variables: int = 100
    learners: int = 100_000
    values: int = 2_000_000
    big_values: int = 1_000_000  # held by one variable
    per_learner: int = 20  # distinct variables per learner among the others (~20 current values)

    @classmethod
    def smoke(cls) -> Size:
        return cls(courses=4, variables=20, learners=2_000, values=40_000, big_values=20_000, per_learner=10)


@dataclass
class Dataset:
    org_id: uuid.UUID
    api_key: str
    learner_ids: list[uuid.UUID]  # learners holding ~per_learner current values
    variable_ids: list[uuid.UUID]  # number variables other than the big one
    big_variable_id: uuid.UUID
    course_ids: list[uuid.UUID]
    feed_variable_id: uuid.UUID  # an output of course 0 connected to an input of each of three chatbots


FEEDS = 3


def _feed(conn: psycopg.Connection[Any], org: uuid.UUID, course: uuid.UUID, now: datetime) -> uuid.UUID:
    """A number output of `course`, connected in one active pipeline to a number input of each of three chatbots."""
    feed = uuid.uuid4()
    conn.execute(
        "INSERT INTO variables (id, org_id, course_id, course_key, name, type, active, direction, created_at,"
        " updated_at) VALUES (%s, %s, %s, %s, 'feed_out', 'number', true, 'output', %s, %s)",
        (feed, org, course, course, now, now),
    )
    pipeline = uuid.uuid4()
    conn.execute(
        "INSERT INTO pipelines (id, org_id, name, active, created_at, updated_at)"
        " VALUES (%s, %s, 'Bench', true, %s, %s)",
        (pipeline, org, now, now),
    )
    nodes = [("course", course)]
    for i in range(FEEDS):
        bot, target = uuid.uuid4(), uuid.uuid4()
        conn.execute(
            "INSERT INTO chatbots (id, org_id, external_id, name, kind, active, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, 'general', true, %s, %s)",
            (bot, org, f"bot-{i}", f"Bot {i}", now, now),
        )
        conn.execute(
            "INSERT INTO variables (id, org_id, chatbot_id, course_key, name, type, active, direction, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, 'feed_in', 'number', true, 'input', %s, %s)",
            (target, org, bot, bot, now, now),
        )
        conn.execute(
            "INSERT INTO pipeline_connections (id, org_id, pipeline_id, source_variable_id, target_variable_id,"
            " active_target, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (uuid.uuid4(), org, pipeline, feed, target, target, now + timedelta(microseconds=i)),
        )
        nodes.append(("chatbot", bot))
    for kind, component in nodes:
        conn.execute(
            "INSERT INTO pipeline_nodes (id, org_id, pipeline_id, component_kind, component_id, x, y, created_at)"
            " VALUES (%s, %s, %s, %s, %s, 0, 0, %s)",
            (uuid.uuid4(), org, pipeline, kind, component, now),
        )
    return feed


def reset(dsn: str, database_url: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade(database_url)


def generate(dsn: str, database_url: str, size: Size, seed: int = 1) -> Dataset:
    started = time.perf_counter()
    reset(dsn, database_url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    org = uuid.uuid4()
    key = keys.generate()
    courses = [uuid.uuid4() for _ in range(size.courses)]
    variables = [(uuid.uuid4(), courses[i % size.courses]) for i in range(size.variables)]
    big = variables[0][0]
    others = variables[1:]
    learners = [uuid.uuid4() for _ in range(size.learners)]
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO organizations (id, name, created_at) VALUES (%s, 'Bench', %s)", (org, now))
        _insert_key(conn, org, key, courses)
        with conn.cursor() as cur:
            with cur.copy("COPY courses (id, org_id, external_id, name, description, active, created_at, updated_at)"
                          " FROM STDIN") as copy:  # fmt: skip
                for i, c in enumerate(courses):
                    # Created a second apart, in order: course 0 (the big variable's) lists first, so the nested
                    # scenario's `offset: 1` leaves it out on every data set (with equal times, the order was
                    # the random ids', and a quarter of data sets put the big variable in the nested query).
                    created = now - timedelta(seconds=size.courses - i)
                    copy.write_row((c, org, f"C-{i}", f"Course {i}", None, True, created, created))
            with cur.copy("COPY variables (id, org_id, course_id, course_key, name, description, type, active,"
                          " default_value, created_at, updated_at) FROM STDIN") as copy:  # fmt: skip
                for i, (v, c) in enumerate(variables):
                    copy.write_row((v, org, c, c, f"var_{i}", None, "number", True, None, now, now))
            with cur.copy("COPY learners (id, org_id, email, email_normalized, name, external_id, created_at)"
                          " FROM STDIN") as copy:  # fmt: skip
                for i, lid in enumerate(learners):
                    email = f"learner{i}@bench.example"
                    copy.write_row((lid, org, email, email, f"Learner {i}", None, now))
            columns = "id, org_id, variable_id, learner_id, value, value_number, recorded_at"
            with cur.copy(f"COPY variable_values ({columns}) FROM STDIN") as copy:
                for n in range(size.big_values):
                    score = round(rng.gauss(70, 12), 1)
                    when = now - timedelta(seconds=size.big_values - n)
                    copy.write_row((uuid.uuid4(), org, big, learners[n % size.learners], str(score), score, when))
                remaining = size.values - size.big_values
                holders = max(1, remaining // size.per_learner)
                n = 0
                for lid in learners[:holders]:
                    for v, _c in rng.sample(others, k=min(size.per_learner, len(others))):
                        if n >= remaining:
                            break
                        score = rng.randint(0, 100)
                        copy.write_row(
                            (uuid.uuid4(), org, v, lid, str(score), float(score), now - timedelta(seconds=n))
                        )
                        n += 1
        feed = _feed(conn, org, courses[1], now)
        conn.execute(
            """INSERT INTO current_values (variable_id, learner_id, run_key, org_id, course_run_id, value_id, value,
                                           value_number, recorded_at)
               SELECT DISTINCT ON (variable_id, learner_id) variable_id, learner_id,
                      '00000000-0000-0000-0000-000000000000'::uuid, org_id, NULL, id, value, value_number, recorded_at
               FROM variable_values ORDER BY variable_id, learner_id, recorded_at DESC"""
        )
        conn.execute(
            """INSERT INTO enrollments (id, org_id, learner_id, course_id, course_run_id, run_key, enrolled_at)
               SELECT gen_random_uuid(), c.org_id, c.learner_id, v.course_id, NULL,
                      '00000000-0000-0000-0000-000000000000'::uuid, now()
               FROM (SELECT DISTINCT org_id, learner_id, variable_id FROM current_values) c
               JOIN variables v ON v.id = c.variable_id
               GROUP BY c.org_id, c.learner_id, v.course_id"""
        )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    holders = max(1, (size.values - size.big_values) // size.per_learner)
    print(f"data set: {size} in {time.perf_counter() - started:.0f} s")
    return Dataset(org, key.secret, learners[: min(holders, 5000)], [v for v, _ in others], big, courses, feed)


def _insert_key(conn: psycopg.Connection[Any], org: uuid.UUID, key: keys.NewKey, courses: list[uuid.UUID]) -> None:
    """The bench key: write-scoped and confined to every course, as an integration's key would be; the confinement
    hides the chatbots' values, which both sides filter out."""
    conn.execute(
        "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, created_at, scope, course_ids)"
        " VALUES (%s, %s, 'bench', %s, %s, %s, 'write', %s)",
        (uuid.uuid4(), org, key.prefix, key.hash, datetime.now(UTC), Jsonb(sorted(str(c) for c in courses))),
    )


def reuse(dsn: str) -> Dataset | None:
    """The data set an earlier run left, with a fresh API key (only key hashes are stored); None if there is none."""
    with psycopg.connect(dsn) as conn:
        try:
            org = conn.execute("SELECT id FROM organizations WHERE name = 'Bench'").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        if org is None:
            return None
        org_id = org[0]
        variables = [r[0] for r in conn.execute(
            "SELECT id FROM variables WHERE org_id = %s AND name LIKE 'var%%' ORDER BY name", (org_id,))]  # fmt: skip
        big = conn.execute("SELECT id FROM variables WHERE org_id = %s AND name = 'var_0'", (org_id,)).fetchone()[0]  # type: ignore[index]  # the variable exists: the data set was just made
        learners = [
            r[0]
            for r in conn.execute(
                # Ordered, so that every run (and both sides of `bench.profile`) draws the same learners.
                "SELECT DISTINCT learner_id FROM current_values WHERE org_id = %s AND variable_id <> %s"
                " ORDER BY learner_id LIMIT 5000",
                (org_id, big),
            )
        ]
        courses = [r[0] for r in conn.execute("SELECT id FROM courses WHERE org_id = %s ORDER BY name", (org_id,))]
        key = keys.generate()
        _insert_key(conn, org_id, key, courses)
        feed = conn.execute("SELECT id FROM variables WHERE org_id = %s AND name = 'feed_out'", (org_id,)).fetchone()
        conn.commit()
    if feed is None:  # a data set from before the pipelines scenario
        return None
    return Dataset(org_id, key.secret, learners, [v for v in variables if v != big], big, courses, feed[0])
