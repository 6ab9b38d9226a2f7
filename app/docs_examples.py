"""Examples for /api/docs taken from the demo organization at start-up, so that "Try it out" works unedited with
the key `make run` prints. Only from the organization the demo loader marked (`is_demo`), never from one that merely
shares its name: the docs are public. Without the demo (a production database), the documentation keeps its
generic ids.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.models import Direction, VariableType
from db.queries.api_keys import api_keys
from db.queries.chatbots import chatbots
from db.queries.courses import courses
from db.queries.learners import learners
from db.queries.organizations import organizations
from db.queries.pipelines import connections, nodes, pipelines
from db.queries.values import current
from db.queries.variables import variables

log = logging.getLogger(__name__)


async def _first(conn: AsyncConnection, query: Any) -> Any:
    return (await conn.execute(query.limit(1))).scalar()


async def demo_examples(db: Database) -> dict[str, Any]:
    """Path parameters and request bodies by name, with the demo organization's ids; empty without the demo."""
    try:
        async with db.read() as conn:
            return await _examples(conn)
    except Exception:  # the docs must come up even when the database does not answer yet
        log.warning("the API docs' examples could not be read from the demo organization", exc_info=True)
        return {}


async def _examples(conn: AsyncConnection) -> dict[str, Any]:
    org = await _first(
        conn, select(organizations.c.id).where(organizations.c.is_demo).order_by(organizations.c.created_at)
    )
    if org is None:
        return {}
    course = (
        await conn.execute(
            select(courses.c.id, courses.c.external_id).where(courses.c.org_id == org).order_by(courses.c.created_at)
        )
    ).first()
    if course is None:
        return {}
    in_org = variables.c.org_id == org
    variable = await _first(
        conn,
        select(variables.c.id).where(
            in_org, variables.c.course_id == course.id, variables.c.type == VariableType.NUMBER
        ),
    )
    learner = await _first(conn, select(current.c.learner_id).where(current.c.variable_id == variable))
    learner = learner or await _first(conn, select(learners.c.id).where(learners.c.org_id == org))
    output = await _first(conn, select(variables.c.id).where(in_org, variables.c.direction == Direction.OUTPUT))
    target = await _first(conn, select(variables.c.id).where(in_org, variables.c.direction == Direction.INPUT))
    pipeline = await _first(conn, select(pipelines.c.id).where(pipelines.c.org_id == org))
    chatbot = (
        await conn.execute(select(chatbots.c.id, chatbots.c.external_id).where(chatbots.c.org_id == org).limit(1))
    ).first()
    examples = {
        "course_id": course.id,
        "external_id": course.external_id,
        "variable_id": variable,
        "learner_id": learner,
        "chatbot_id": chatbot and chatbot.id,
        "Chatbots.external_id": chatbot and chatbot.external_id,
        "pipeline_id": pipeline,
        "node_id": await _first(conn, select(nodes.c.id).where(nodes.c.pipeline_id == pipeline)),
        "connection_id": await _first(conn, select(connections.c.id).where(connections.c.pipeline_id == pipeline)),
        "key_id": await _first(
            conn,
            select(api_keys.c.id)
            .where(api_keys.c.org_id == org, api_keys.c.revoked_at.is_(None))
            .order_by(api_keys.c.created_at.desc()),
        ),
        "email": await _first(conn, select(learners.c.email).where(learners.c.id == learner)),
    }
    bodies = {
        "SetVariable": {"variable_id": variable, "learner_id": learner, "value": 87},
        "SetVariables": {
            "values": [
                {"variable_id": variable, "learner_id": learner, "value": 87},
                {"variable_id": variable, "learner_id": learner, "value": 91},
            ]
        },
        "PipelineNodeCreate": {"component_kind": "chatbot", "component_id": chatbot and chatbot.id, "x": 320, "y": 80},
        "ConnectionCreate": {"source_variable_id": output, "target_variable_id": target, "backfill": True},
    }
    found = {name: str(value) for name, value in examples.items() if value is not None}
    return {"params": found, "bodies": _strings(bodies)}


def _strings(value: Any) -> Any:
    """UUIDs as the strings JSON carries."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
