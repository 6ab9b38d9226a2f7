"""A realistic demo organization: courses with runs, ~200 learners, variables of every type and thousands of values,
and two chatbots in a pipeline with values that have flowed through it.

Written in bulk through the data layer's tables (not one GraphQL call per value), keeping the current-value table in
step with the history exactly as `setVariable` does.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from access.tokens import local_user_id
from db.models import ChatbotKind, ComponentKind, Direction, Role
from db.queries import pipelines
from db.queries.chatbots import chatbots
from db.queries.courses import courses, runs
from db.queries.learners import enrollments, learners
from db.queries.organizations import add_member, organizations
from db.queries.values import current, history
from db.queries.variables import variables
from db.types import NIL_UUID, utcnow

DEMO_ORG = "Demo Academy"
DEMO_EMAIL = "demo@coursepipeline.local"

COURSES = [
    ("PY-101", "Python Foundations", "Variables, loops and functions for first-time programmers."),
    ("DS-201", "Data Science with pandas", "Cleaning, joining and plotting real data sets."),
    ("ML-301", "Applied Machine Learning", "Models from regression to gradient boosting."),
    ("UX-110", "UX Research Basics", "Interviews, surveys and usability tests."),
    ("AI-CHAT", "AI Tutor Onboarding", "The chatbot tutor that follows learners across courses."),
]
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Guido",
    "Barbara",
    "Ken",
    "Radia",
    "Donald",
    "Frances",
    "Tim",
    "Katherine",
    "Dennis",
    "Hedy",
    "John",
    "Sophie",
    "Yukihiro",
    "Anita",
    "Bjarne",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "van Rossum",
    "Liskov",
    "Thompson",
    "Perlman",
    "Knuth",
    "Allen",
    "Berners-Lee",
    "Johnson",
    "Ritchie",
    "Lamarr",
    "McCarthy",
    "Wilson",
    "Matsumoto",
]
LEVELS = ["beginner", "intermediate", "advanced", "expert"]


async def demo_exists(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(func.count()).select_from(organizations))).scalar_one() > 0


async def load_demo(conn: AsyncConnection, *, learners_count: int = 200, seed: int = 7) -> uuid.UUID:
    rng = random.Random(seed)
    now = utcnow()
    org_id = uuid.uuid4()
    await conn.execute(
        insert(organizations).values(id=org_id, name=DEMO_ORG, is_demo=True, created_at=now - timedelta(days=120))
    )
    await add_member(conn, org_id, user_id=local_user_id(DEMO_EMAIL), email=DEMO_EMAIL, role=Role.OWNER)

    course_rows: list[dict[str, Any]] = []
    run_rows: list[dict[str, Any]] = []
    for i, (external_id, name, description) in enumerate(COURSES):
        created = now - timedelta(days=110 - i * 5)
        course_id = uuid.uuid4()
        course_rows.append(
            {
                "id": course_id,
                "org_id": org_id,
                "external_id": external_id,
                "name": name,
                "description": description,
                "active": True,
                "created_at": created,
                "updated_at": created,
            }
        )
        for r, season in enumerate(["Spring", "Autumn"]):
            starts = created + timedelta(days=7 + r * 45)
            run_rows.append(
                {
                    "id": uuid.uuid4(),
                    "org_id": org_id,
                    "course_id": course_id,
                    "name": f"{season} cohort",
                    "starts_at": starts,
                    "ends_at": starts + timedelta(days=40),
                    "created_at": created,
                }
            )
    await conn.execute(insert(courses), course_rows)
    await conn.execute(insert(runs), run_rows)

    learner_rows: list[dict[str, Any]] = []
    for n in range(learners_count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{n}@example.edu".lower().replace(" ", "")
        learner_rows.append(
            {
                "id": uuid.uuid4(),
                "org_id": org_id,
                "email": email,
                "email_normalized": email,
                "name": f"{first} {last}",
                "external_id": f"lms-{1000 + n}",
                "created_at": now - timedelta(days=rng.randint(20, 115)),
            }
        )
    await conn.execute(insert(learners), learner_rows)

    variable_rows: list[dict[str, Any]] = []

    def variable(
        course_id: uuid.UUID | None,
        name: str,
        kind: str,
        description: str,
        default: Any,
        direction: Direction = Direction.STATE,
        chatbot_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        row = {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "course_id": course_id,
            "chatbot_id": chatbot_id,
            "course_key": course_id or chatbot_id or NIL_UUID,
            "direction": direction.value,
            "name": name,
            "description": description,
            "type": kind,
            "active": True,
            "default_value": default,
            "created_at": now - timedelta(days=100),
            "updated_at": now - timedelta(days=100),
        }
        variable_rows.append(row)
        return row

    variable(None, "preferred_language", "text", "The language the learner prefers to be addressed in", "en")
    variable(None, "tutor_persona", "json", "Settings for the AI tutor's tone", {"tone": "friendly"})
    per_course = []
    for course in course_rows:
        # The first course's quiz score is an output: the demo pipeline carries it to the tutor chatbot.
        quiz_direction = Direction.OUTPUT if course is course_rows[0] else Direction.STATE
        per_course.append(
            (
                course,
                [
                    variable(course["id"], "quiz_score", "number", "Latest quiz score (0-100)", None, quiz_direction),
                    variable(course["id"], "hours_spent", "number", "Hours of study logged", 0),
                    variable(course["id"], "skill_level", "text", "Self-assessed skill level", "beginner"),
                    variable(course["id"], "completed", "boolean", "Whether the learner finished the course", False),
                    variable(course["id"], "chat_memory", "json", "What the AI tutor remembers", None),
                ],
            )
        )
    prior_skill = variable(
        course_rows[1]["id"], "prior_skill", "text", "Skill level the tutor assessed", None, Direction.INPUT
    )
    await conn.execute(insert(variables), variable_rows)

    values: list[dict[str, Any]] = []
    latest: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    enrolled: set[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = set()

    def record(
        var: dict[str, Any],
        learner: dict[str, Any],
        run: dict[str, Any] | None,
        value: Any,
        number: float | None,
        when: Any,
    ) -> None:
        row = {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "variable_id": var["id"],
            "learner_id": learner["id"],
            "course_run_id": run["id"] if run else None,
            "value": value,
            "value_number": number,
            "recorded_at": when,
            "recorded_by_key_id": None,
            "recorded_by_user": "demo",
        }
        values.append(row)
        key = (var["id"], learner["id"], run["id"] if run else NIL_UUID)
        if key not in latest or latest[key]["recorded_at"] <= when:
            latest[key] = row

    for course, (quiz, hours, skill, completed, memory) in per_course:
        course_runs = [r for r in run_rows if r["course_id"] == course["id"]]
        for learner in rng.sample(learner_rows, k=int(learners_count * rng.uniform(0.35, 0.6))):
            run = rng.choice(course_runs)
            enrolled.add((learner["id"], course["id"], run["id"]))
            t = run["starts_at"] + timedelta(hours=rng.randint(1, 48))
            ability = rng.gauss(72, 12)
            for _attempt in range(rng.randint(1, 4)):
                score = max(0, min(100, round(rng.gauss(ability, 8))))
                record(quiz, learner, run, score, float(score), t)
                t += timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600))
            spent = round(max(0.5, rng.lognormvariate(2.3, 0.6)), 1)
            record(hours, learner, run, spent, spent, t)
            level = LEVELS[min(3, max(0, int((ability - 45) / 15)))]
            record(skill, learner, run, level, None, t + timedelta(minutes=5))
            record(completed, learner, run, rng.random() < 0.62, None, t + timedelta(minutes=9))
            if rng.random() < 0.4:
                memory_value = {
                    "goal": rng.choice(["career change", "promotion", "curiosity"]),
                    "struggles_with": rng.sample(["recursion", "joins", "statistics", "git"], k=2),
                }
                record(memory, learner, run, memory_value, None, t + timedelta(minutes=12))
    for learner in learner_rows:
        language = rng.choices(["en", "es", "de", "fr", "ja"], weights=[60, 15, 10, 10, 5])[0]
        record(variable_rows[0], learner, None, language, None, learner["created_at"] + timedelta(hours=1))

    await conn.execute(insert(history), values)
    await conn.execute(
        insert(current),
        [
            {
                "variable_id": k[0],
                "learner_id": k[1],
                "run_key": k[2],
                "org_id": org_id,
                "course_run_id": row["course_run_id"],
                "value_id": row["id"],
                "value": row["value"],
                "value_number": row["value_number"],
                "recorded_at": row["recorded_at"],
            }
            for k, row in latest.items()
        ],
    )
    await conn.execute(
        insert(enrollments),
        [
            {
                "id": uuid.uuid4(),
                "org_id": org_id,
                "learner_id": lid,
                "course_id": cid,
                "course_run_id": rid,
                "run_key": rid,
                "enrolled_at": now - timedelta(days=30),
            }
            for lid, cid, rid in enrolled
        ],
    )
    await _demo_pipeline(conn, org_id, course_rows, per_course[0][1][0], prior_skill, rng)
    return org_id


async def _demo_pipeline(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    course_rows: list[dict[str, Any]],
    quiz: dict[str, Any],
    prior_skill: dict[str, Any],
    rng: random.Random,
) -> None:
    """Python Foundations' quiz score feeds the tutor chatbot; the skill level the tutor decides feeds the next
    course and the career coach. Values flow the way they would in use: backfilled on connect, then the tutor's own
    outputs carried onwards."""
    created = utcnow() - timedelta(days=60)
    bots = [
        ("py-tutor", "Python Tutor", "Explains mistakes and adapts exercises to the learner.", ChatbotKind.EDUCATION),
        ("career-coach", "Career Coach", "Suggests the next course from the learner's goals.", ChatbotKind.GENERAL),
    ]
    bot_rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "external_id": external_id,
            "name": name,
            "description": description,
            "kind": kind.value,
            "active": True,
            "created_at": created,
            "updated_at": created,
        }
        for external_id, name, description, kind in bots
    ]
    await conn.execute(insert(chatbots), bot_rows)
    tutor_id, coach_id = bot_rows[0]["id"], bot_rows[1]["id"]

    def bot_variable(bot: uuid.UUID, name: str, kind: str, direction: Direction, description: str) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "course_id": None,
            "chatbot_id": bot,
            "course_key": bot,
            "direction": direction.value,
            "name": name,
            "description": description,
            "type": kind,
            "active": True,
            "default_value": None,
            "created_at": created,
            "updated_at": created,
        }

    quiz_in = bot_variable(tutor_id, "quiz_score", "number", Direction.INPUT, "The learner's latest quiz score")
    skill = bot_variable(tutor_id, "skill_level", "text", Direction.OUTPUT, "The level the tutor assessed")
    coach_skill = bot_variable(coach_id, "skill_level", "text", Direction.INPUT, "The tutor's assessment")
    await conn.execute(insert(variables), [quiz_in, skill, coach_skill])

    fields = {"name": "Python to Data Science", "description": "Quiz score to the tutor, skill level onwards"}
    pipeline_id = (await pipelines.insert_pipeline(conn, org_id, fields))["id"]
    placed = [
        (ComponentKind.COURSE, course_rows[0]["id"], 0.0, 80.0),
        (ComponentKind.CHATBOT, tutor_id, 340.0, 80.0),
        (ComponentKind.COURSE, course_rows[1]["id"], 680.0, 0.0),
        (ComponentKind.CHATBOT, coach_id, 680.0, 200.0),
    ]
    for kind, component_id, x, y in placed:
        await pipelines.add_node(conn, org_id, pipeline_id, kind, component_id, x, y)
    await pipelines.connect(
        conn, org_id, pipeline_id, quiz["id"], quiz_in["id"], backfill=True, recorded_by_user="demo"
    )

    # The tutor read each score and wrote its assessment: its own output, recorded a little later.
    scored = (await conn.execute(select(current).where(current.c.variable_id == quiz_in["id"]))).mappings().all()
    when = utcnow()
    assessed = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "variable_id": skill["id"],
            "learner_id": row["learner_id"],
            "course_run_id": None,
            "value": LEVELS[min(3, max(0, int((row["value"] - 45) / 15)))],
            "value_number": None,
            "recorded_at": when + timedelta(milliseconds=rng.randint(1, 999)),
            "recorded_by_key_id": None,
            "recorded_by_user": "demo",
        }
        for row in scored
    ]
    if assessed:
        await conn.execute(insert(history), assessed)
        await conn.execute(insert(current), [_current_row(row) for row in assessed])
    for target in (prior_skill, coach_skill):
        await pipelines.connect(
            conn, org_id, pipeline_id, skill["id"], target["id"], backfill=True, recorded_by_user="demo"
        )


def _current_row(row: dict[str, Any]) -> dict[str, Any]:
    """The current-value row of a history row recorded with no course run."""
    return {
        "variable_id": row["variable_id"],
        "learner_id": row["learner_id"],
        "run_key": NIL_UUID,
        "org_id": row["org_id"],
        "course_run_id": None,
        "value_id": row["id"],
        "value": row["value"],
        "value_number": row["value_number"],
        "recorded_at": row["recorded_at"],
    }
