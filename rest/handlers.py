"""One handler per documented endpoint: parameters in, one named GraphQL document run, REST JSON out.

No handler touches the database or checks permissions: both live behind the schema.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from access.errors import APIError
from access.idempotency import SECRET_FIELDS_KEY
from rest import params as p
from rest.executor import found, payload, run, sliced
from schema.mutations import MAX_GRACE_SECONDS
from schema.types import VariableDirection, VariableType
from schema.value_mutations import MAX_BATCH


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# GraphQL names an enum value by its member (`NUMBER`, `INPUT`); REST by its value (`number`, `input`).
_TYPE_NAMES = {member.name: member.value for member in VariableType}
_DIRECTION_NAMES = {member.name: member.value for member in VariableDirection}


def _variable(v: dict[str, Any]) -> dict[str, Any]:
    v["type"] = _TYPE_NAMES[v["type"]]
    v["direction"] = _DIRECTION_NAMES[v["direction"]]
    return v


def _variables(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Inline rather than `_variable` per item: lists of variables are common answers.
    names, directions = _TYPE_NAMES, _DIRECTION_NAMES
    for v in items:
        v["type"] = names[v["type"]]
        v["direction"] = directions[v["direction"]]
    return items


def _variable_page(result: dict[str, Any]) -> dict[str, Any]:
    _variables(result["data"])
    return result


# --- API keys ---


def _scope(body: dict[str, Any]) -> str | None:
    """`scopes`: absent or null for full access, else a list of `read` and `write` (write includes read)."""
    scopes = body.get("scopes")
    if scopes is None:
        return None
    if not isinstance(scopes, list) or not scopes or not set(scopes) <= {"read", "write"}:
        raise p.bad("scopes must be a non-empty list of read and write (or absent for full access)")
    return "WRITE" if "write" in scopes else "READ"


def _course_ids(body: dict[str, Any]) -> list[str] | None:
    """`course_ids`: absent or null for every course, else the course ids the key is confined to."""
    ids = body.get("course_ids")
    if ids is None:
        return None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise p.bad("course_ids must be a list of 1 to 100 course ids (or absent for every course)")
    return [p.as_id(i, "course_ids") for i in ids]


def _with_secret(request: Request, answer: dict[str, Any], *secret_fields: str) -> Response:
    """A 201 carrying a secret: never cached on the way, and never stored with an idempotent answer."""
    request.scope[SECRET_FIELDS_KEY] = secret_fields
    return JSONResponse(answer, status_code=201, headers={"Cache-Control": "no-store"})


async def create_api_key(request: Request) -> Response:
    body = await p.json_object(request)
    expires = p.body_time(body, "expires_at")
    variables = {
        "name": p.body_text(body, "name"),
        "expiresAt": expires.isoformat() if expires else None,
        "scope": _scope(body),
        "courseIds": _course_ids(body),
    }
    return _with_secret(request, payload(await run(request, "CreateApiKey", variables)), "key")


async def roll_api_key(request: Request) -> Response:
    key_id = p.path_id(request, "key_id")
    body = await p.json_object(request) if await request.body() else {}
    grace = body.get("grace_seconds", 86400)
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= MAX_GRACE_SECONDS:
        raise p.bad(f"grace_seconds must be an integer from 0 to {MAX_GRACE_SECONDS} (30 days)")
    return _with_secret(
        request, payload(await run(request, "RollApiKey", {"id": key_id, "graceSeconds": grace})), "key"
    )


async def api_key_usage(request: Request) -> Response:
    key_id = p.path_id(request, "key_id")
    days = p.query_int(request, "days", 30, 1, 90)
    return JSONResponse(
        {"key_id": key_id, "data": found(await run(request, "ApiKeyUsage", {"id": key_id, "days": days}), "API key")}
    )


async def list_api_keys(request: Request) -> Response:
    page = p.page(request)
    data = await run(request, "ListApiKeys", {})
    return JSONResponse(sliced(request, data["result"], page, "api-keys", _key_position))


async def revoke_api_key(request: Request) -> Response:
    key_id = p.path_id(request, "key_id")
    return JSONResponse(payload(await run(request, "RevokeApiKey", {"id": key_id})))


# --- variables ---


async def list_variables(request: Request) -> Response:
    course_id = p.query_id(request, "course_id")
    variables = {
        "courseId": course_id,
        "active": p.query_bool(request, "active"),
        **p.page(request),
    }
    return JSONResponse(_variable_page((await run(request, "ListVariables", variables))["result"]))


async def get_variable(request: Request) -> Response:
    variable_id = p.path_id(request, "variable_id")
    data = await run(request, "GetVariable", {"id": variable_id})
    return JSONResponse(_variable(found(data, "Variable")))


async def list_variable_values(request: Request) -> Response:
    variable_id = p.path_id(request, "variable_id")
    learner_id = p.query_id(request, "learner_id")
    variables = {"id": variable_id, "learnerId": learner_id, **p.page(request)}
    return JSONResponse(found(await run(request, "ListVariableValues", variables), "Variable"))


def _set_item(body: Any) -> dict[str, Any]:
    """A value to set, as the body of `/api/variables/set` or an item of a batch, checked."""
    if not isinstance(body, dict):
        raise p.bad("an item must be a JSON object")
    if body.get("value") is None:
        raise p.bad("value is required")
    unknown = set(body) - {"variable_id", "learner_id", "course_run_id", "value", "expected_value_id"}
    if unknown:
        raise p.bad(f"unknown field {sorted(unknown)[0]}")
    item = {
        "variableId": p.body_id(body, "variable_id"),
        "learnerId": p.body_id(body, "learner_id"),
        "courseRunId": p.body_id(body, "course_run_id", required=False),
        "value": body["value"],
    }
    if "expected_value_id" in body:  # null is a condition too: "only if there is no value yet"
        item["expectedValueId"] = p.body_id(body, "expected_value_id", required=False)
    return item


async def set_variable(request: Request) -> Response:
    item = _set_item(await p.json_object(request))
    # A plain set runs the document without the condition: the busiest write keeps its one shape.
    document = "SetVariableExpecting" if "expectedValueId" in item else "SetVariable"
    return JSONResponse(payload(await run(request, document, item)), status_code=201)


async def set_variables(request: Request) -> Response:
    body = await p.json_object(request)
    items = body.get("values")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise p.bad(f"values must be an array of 1 to {MAX_BATCH} items")
    if set(body) != {"values"}:
        raise p.bad(f"unknown field {sorted(set(body) - {'values'})[0]}")
    parsed: list[tuple[int, dict[str, Any]]] = []
    problems: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        try:
            item = _set_item(raw)
        except APIError as exc:
            problems.append({"index": index, "error": exc.code, "message": exc.message, "field": None})
            continue
        if "expectedValueId" in item:
            message = "a batch item takes no expected_value_id: use /api/variables/set"
            problems.append({"index": index, "error": "invalid_input", "message": message, "field": "expectedValueId"})
            continue
        parsed.append((index, item))
    if problems:  # one answer names every bad item: the well-formed ones are checked too, and nothing is written
        if parsed:
            checked = await run(request, "SetVariables", {"values": [i for _, i in parsed], "validateOnly": True})
            for refused in checked["result"].get("items", []):
                problems.append({**refused, "index": parsed[refused["index"]][0]})
        problems.sort(key=lambda problem: problem["index"])
        message = f"nothing was recorded: {len(problems)} of {len(items)} items cannot be"
        raise APIError(400, message, code="invalid_input", details={"items": problems})
    result = payload(await run(request, "SetVariables", {"values": [item for _, item in parsed]}))
    return JSONResponse({"data": result["data"]}, status_code=201)


async def variable_aggregate(request: Request) -> Response:
    variable_id = p.path_id(request, "variable_id")
    run_id = p.query_id(request, "course_run_id")
    variables = {"id": variable_id, "courseRunId": run_id}
    variable = found(await run(request, "VariableAggregate", variables), "Variable")
    aggregate = variable["aggregate"]
    if aggregate is None:
        raise APIError(404, "Course run not found.")
    return JSONResponse({**aggregate, "type": variable["type"].lower()})


# --- courses ---


async def list_courses(request: Request) -> Response:
    variables = {"active": p.query_bool(request, "active"), **p.page(request)}
    return JSONResponse((await run(request, "ListCourses", variables))["result"])


async def get_course(request: Request) -> Response:
    course_id = p.path_id(request, "course_id")
    return JSONResponse(found(await run(request, "GetCourse", {"id": course_id}), "Course"))


async def get_course_by_external_id(request: Request) -> Response:
    external_id = request.path_params["external_id"]
    if len(external_id) > 200:
        raise p.bad("externalId is longer than 200 characters")
    data = await run(request, "GetCourseByExternalId", {"externalId": external_id})
    return JSONResponse(found(data, "Course"))


async def list_course_variables(request: Request) -> Response:
    course_id = p.path_id(request, "course_id")
    variables = {"id": course_id, "active": p.query_bool(request, "active"), **p.page(request)}
    data = await run(request, "ListCourseVariables", variables)
    found(data, "Course", key="course")
    return JSONResponse(_variable_page(data["result"]))


async def course_stats(request: Request) -> Response:
    course_id = p.path_id(request, "course_id")
    course = found(await run(request, "CourseStats", {"id": course_id}), "Course")
    return JSONResponse({"course_id": course["id"], **course["stats"]})


# --- chatbots ---


def _chatbot(bot: dict[str, Any]) -> dict[str, Any]:
    bot["kind"] = bot["kind"].lower()
    return bot


async def list_chatbots(request: Request) -> Response:
    variables = {"active": p.query_bool(request, "active"), **p.page(request)}
    result = (await run(request, "ListChatbots", variables))["result"]
    for bot in result["data"]:
        _chatbot(bot)
    return JSONResponse(result)


async def get_chatbot(request: Request) -> Response:
    chatbot_id = p.path_id(request, "chatbot_id")
    return JSONResponse(_chatbot(found(await run(request, "GetChatbot", {"id": chatbot_id}), "Chatbot")))


async def get_chatbot_by_external_id(request: Request) -> Response:
    external_id = request.path_params["external_id"]
    if len(external_id) > 200:
        raise p.bad("externalId is longer than 200 characters")
    data = await run(request, "GetChatbotByExternalId", {"externalId": external_id})
    return JSONResponse(_chatbot(found(data, "Chatbot")))


async def list_chatbot_variables(request: Request) -> Response:
    chatbot_id = p.path_id(request, "chatbot_id")
    variables = {"id": chatbot_id, "active": p.query_bool(request, "active"), **p.page(request)}
    data = await run(request, "ListChatbotVariables", variables)
    found(data, "Chatbot", key="chatbot")
    return JSONResponse(_variable_page(data["result"]))


# --- pipelines ---


def _pipeline(pipeline: dict[str, Any]) -> dict[str, Any]:
    pipeline.pop("__typename", None)
    for node in pipeline.get("nodes", ()):
        node["component_kind"] = node["component_kind"].lower()
    return pipeline


def _pipeline_input(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields of a pipeline body, checked: `name` (required unless `partial`), `description`, `active`."""
    fields: dict[str, Any] = {}
    if "name" in body or not partial:
        fields["name"] = p.body_text(body, "name")
    if "description" in body:
        if body["description"] is not None and not isinstance(body["description"], str):
            raise p.bad("description must be a string or null")
        fields["description"] = body["description"]
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise p.bad("active must be true or false")
        fields["active"] = body["active"]
    unknown = set(body) - {"name", "description", "active"}
    if unknown:
        raise p.bad(f"unknown field {sorted(unknown)[0]}")
    return fields


async def list_pipelines(request: Request) -> Response:
    return JSONResponse((await run(request, "ListPipelines", p.page(request)))["result"])


async def create_pipeline(request: Request) -> Response:
    fields = _pipeline_input(await p.json_object(request), partial=False)
    data = payload(await run(request, "CreatePipeline", {"input": fields}))
    return JSONResponse(_pipeline(data), status_code=201)


async def get_pipeline(request: Request) -> Response:
    pipeline_id = p.path_id(request, "pipeline_id")
    return JSONResponse(_pipeline(found(await run(request, "GetPipeline", {"id": pipeline_id}), "Pipeline")))


async def update_pipeline(request: Request) -> Response:
    pipeline_id = p.path_id(request, "pipeline_id")
    fields = _pipeline_input(await p.json_object(request), partial=True)
    data = payload(await run(request, "UpdatePipeline", {"id": pipeline_id, "input": fields}))
    return JSONResponse(_pipeline(data))


async def delete_pipeline(request: Request) -> Response:
    pipeline_id = p.path_id(request, "pipeline_id")
    payload(await run(request, "DeletePipeline", {"id": pipeline_id}))
    return Response(status_code=204)


_COMPONENT_KINDS = {"course": "COURSE", "chatbot": "CHATBOT"}


def _position(body: dict[str, Any], name: str) -> float:
    value = body.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1e9 <= value <= 1e9:
        raise p.bad(f"{name} must be a number between -1e9 and 1e9")
    return float(value)


async def add_pipeline_node(request: Request) -> Response:
    pipeline_id = p.path_id(request, "pipeline_id")
    body = await p.json_object(request)
    raw_kind = body.get("component_kind")
    kind = _COMPONENT_KINDS.get(raw_kind) if isinstance(raw_kind, str) else None  # any JSON value: an array too
    if kind is None:
        raise p.bad("component_kind must be course or chatbot")
    node = {
        "pipelineId": pipeline_id,
        "componentKind": kind,
        "componentId": p.body_id(body, "component_id"),
        "x": _position(body, "x"),
        "y": _position(body, "y"),
    }
    data = payload(await run(request, "AddPipelineNode", {"input": node}))
    data["component_kind"] = data["component_kind"].lower()
    return JSONResponse(data, status_code=201)


async def remove_pipeline_node(request: Request) -> Response:
    variables = {"pipelineId": p.path_id(request, "pipeline_id"), "id": p.path_id(request, "node_id")}
    payload(await run(request, "RemovePipelineNode", variables))
    return Response(status_code=204)


async def connect_variables(request: Request) -> Response:
    pipeline_id = p.path_id(request, "pipeline_id")
    body = await p.json_object(request)
    backfill = body.get("backfill", False)
    if not isinstance(backfill, bool):
        raise p.bad("backfill must be true or false")
    connection = {
        "pipelineId": pipeline_id,
        "sourceVariableId": p.body_id(body, "source_variable_id"),
        "targetVariableId": p.body_id(body, "target_variable_id"),
        "backfill": backfill,
    }
    return JSONResponse(payload(await run(request, "ConnectVariables", {"input": connection})), status_code=201)


async def disconnect_variables(request: Request) -> Response:
    variables = {"pipelineId": p.path_id(request, "pipeline_id"), "id": p.path_id(request, "connection_id")}
    payload(await run(request, "DisconnectVariables", variables))
    return Response(status_code=204)


# --- learners ---


async def list_learners(request: Request) -> Response:
    variables = {"search": p.query_text(request, "search"), **p.page(request)}
    return JSONResponse((await run(request, "ListLearners", variables))["result"])


async def get_learner(request: Request) -> Response:
    learner_id = p.path_id(request, "learner_id")
    return JSONResponse(found(await run(request, "GetLearner", {"id": learner_id}), "Learner"))


_ROLES = {"owner": "OWNER", "admin": "ADMIN", "member": "MEMBER"}


def _role(body: dict[str, Any], *, default: str | None = None) -> str:
    value = body.get("role", default)
    if value not in _ROLES:
        raise p.bad("role must be one of owner, admin, member")
    return _ROLES[value]


def _member(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "role": row["role"].lower()}


def _user_id(request: Request) -> str:
    user_id = request.path_params["user_id"]
    if not 1 <= len(user_id) <= 200:
        raise p.bad("user_id must be 1 to 200 characters")
    return user_id


async def list_members(request: Request) -> Response:
    page = p.page(request)
    data = await run(request, "ListMembers", {})
    members = [_member(m) for m in data["result"]]
    return JSONResponse(sliced(request, members, page, "members", lambda m: (m["user_id"],)))


async def invite_member(request: Request) -> Response:
    body = await p.json_object(request)
    variables = {"input": {"email": p.body_text(body, "email"), "role": _role(body, default="member")}}
    return _with_secret(request, _member(payload(await run(request, "InviteMember", variables))), "link")


async def change_member_role(request: Request) -> Response:
    body = await p.json_object(request)
    variables = {"userId": _user_id(request), "role": _role(body)}
    return JSONResponse(_member(payload(await run(request, "ChangeMemberRole", variables))))


async def remove_member(request: Request) -> Response:
    payload(await run(request, "RemoveMember", {"userId": _user_id(request)}))
    return Response(status_code=204)


async def audit_log(request: Request) -> Response:
    return JSONResponse((await run(request, "AuditLog", p.page(request)))["result"])


async def erase_learner(request: Request) -> Response:
    learner_id = p.path_id(request, "learner_id")
    payload(await run(request, "EraseLearner", {"id": learner_id}))
    return Response(status_code=204)


async def get_learner_by_email(request: Request) -> Response:
    email = request.path_params["email"].strip()
    if not email or len(email) > 320:
        raise p.bad("email must be 1 to 320 characters")
    return JSONResponse(found(await run(request, "GetLearnerByEmail", {"email": email}), "Learner"))


async def learner_courses(request: Request) -> Response:
    learner_id = p.path_id(request, "learner_id")
    page = p.page(request)
    learner = found(await run(request, "LearnerCourses", {"id": learner_id}), "Learner")
    return JSONResponse(sliced(request, learner["courses"], page, "learner-courses", _course_position))


async def learner_variables(request: Request) -> Response:
    learner_id = p.path_id(request, "learner_id")
    course_id = p.query_id(request, "course_id")
    page = p.page(request)
    variables = {"id": learner_id, "courseId": course_id}
    return learner_variables_page(request, await run(request, "LearnerVariables", variables), page)


# Where an item stands in its in-memory list, for cursors: each list's order, ending with a unique id.
def _key_position(key: dict[str, Any]) -> tuple[str, ...]:
    return (key["created_at"], key["id"])


def _course_position(course: dict[str, Any]) -> tuple[str, ...]:
    return (course["id"],)


def _learner_variable_position(value: dict[str, Any]) -> tuple[str, ...]:
    return (value["name"], value["course_run_id"] or "", value["variable_id"])


def learner_variables_page(request: Request, data: dict[str, Any], page: dict[str, Any]) -> Response:
    """The LearnerVariables document's result as the REST page (also used by `bench/ablation.py`)."""
    learner = found(data, "Learner")
    if learner["variables"] is None:
        raise APIError(404, "Course not found.")
    items = learner["variables"]
    names = _TYPE_NAMES  # inline: a learner's values are among the busiest answers
    for v in items:
        v["type"] = names[v["type"]]
    return JSONResponse(sliced(request, items, page, "learner-variables", _learner_variable_position))
