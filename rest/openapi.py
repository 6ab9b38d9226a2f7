"""The OpenAPI 3 description of the REST API, built from the endpoint table."""

from __future__ import annotations

from typing import Any

from rest.endpoints import ENDPOINTS, Endpoint, Param
from schema.mutations import MAX_GRACE_SECONDS

STR = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
NUUID = {"type": "string", "format": "uuid", "nullable": True}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": "string", "format": "date-time", "nullable": True}
NSTR = {"type": "string", "nullable": True}
ANY: dict[str, Any] = {"description": "Any JSON value"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or list(props)}


SECRET_WITHHELD = {
    "type": "boolean",
    "description": "Present (true) only in a replay of an Idempotency-Key: the answer's secret was shown once, to "
    "the first request, and is never stored; roll the key (or invite again) for a new one",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: str) -> dict[str, Any]:
    return _obj({"data": {"type": "array", "items": _ref(item)}, "pagination": _ref("Pagination")})


COURSE = {
    "id": UUID,
    "external_id": NSTR,
    "name": STR,
    "description": NSTR,
    "active": {"type": "boolean"},
    "created_at": TIME,
    "updated_at": TIME,
}
VARIABLE_TYPE = {"type": "string", "enum": ["text", "number", "boolean", "json"]}
DIRECTION = {
    "type": "string",
    "enum": ["input", "output", "state"],
    "description": "input: the component reads it; output: it writes it; state: neither end of a connection",
}
CHATBOT = {
    "id": UUID,
    "external_id": NSTR,
    "name": STR,
    "description": NSTR,
    "kind": {"type": "string", "enum": ["code_assistant", "education", "general", "specialized"]},
    "active": {"type": "boolean"},
    "created_at": TIME,
    "updated_at": TIME,
}
PIPELINE = {"id": UUID, "name": STR, "description": NSTR, "active": {"type": "boolean"}, "created_at": TIME,
            "updated_at": TIME}  # fmt: skip
NODE = {
    "id": UUID,
    "pipeline_id": UUID,
    "component_kind": {"type": "string", "enum": ["course", "chatbot"]},
    "component_id": UUID,
    "name": {**NSTR, "description": "The course's or chatbot's name"},
    "x": {"type": "number"},
    "y": {"type": "number"},
    "created_at": TIME,
}
CONNECTION = {"id": UUID, "pipeline_id": UUID, "source_variable_id": UUID, "target_variable_id": UUID,
              "created_at": TIME}  # fmt: skip
EXAMPLE_ID = "5b1f0d9e-3c1a-4e5b-9f0a-2d6c8e7b4a10"
ROLE = {"type": "string", "enum": ["owner", "admin", "member"]}
API_KEY = {
    "id": UUID,
    "name": STR,
    "prefix": STR,
    "created_at": TIME,
    "expires_at": NTIME,
    "revoked_at": NTIME,
    "last_used_at": NTIME,
    "scope": {
        "type": "string",
        # null in the enum too: OpenAPI 3.0 validators check `enum` before `nullable`.
        "enum": ["read", "write", None],
        "nullable": True,
        "description": "read: GET and GraphQL queries; write: reads and value writes; null: full access",
    },
    "course_ids": {
        "type": "array",
        "items": UUID,
        "nullable": True,
        "description": "The courses the key is confined to; null: every course",
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        **_obj({"error": STR, "message": STR}),
        "description": "Some errors carry more: a refused batch its `items` (index, error, message), a "
        "compare-and-set conflict the `current` value, a 500 or 503 the `request_id`.",
    },
    "Pagination": _obj(
        {
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "has_more": {"type": "boolean"},
            "next_cursor": {**NSTR, "description": "Pass as `cursor` for the next page; null on the last page"},
        }
    ),
    "Course": _obj(COURSE),
    "CourseList": _list("Course"),
    "CourseStats": _obj(
        {
            "course_id": UUID,
            "enrolled_learners": {"type": "integer"},
            "learners_with_values": {"type": "integer"},
            "variables": {"type": "integer"},
            "active_variables": {"type": "integer"},
            "values_recorded": {"type": "integer"},
            "last_activity_at": NTIME,
        }
    ),
    "Learner": _obj({"id": UUID, "email": STR, "name": NSTR, "external_id": NSTR, "created_at": TIME}),
    "LearnerList": _list("Learner"),
    "LearnerVariable": _obj(
        {
            "variable_id": UUID,
            "name": STR,
            "course_id": NUUID,
            "type": VARIABLE_TYPE,
            "course_run_id": NUUID,
            "value": ANY,
            "recorded_at": TIME,
            "value_id": UUID,
        }
    ),
    "LearnerVariableList": _list("LearnerVariable"),
    "Variable": _obj(
        {
            "id": UUID,
            "course_id": NUUID,
            "chatbot_id": NUUID,
            "direction": DIRECTION,
            "name": STR,
            "description": NSTR,
            "type": VARIABLE_TYPE,
            "active": {"type": "boolean"},
            "default_value": ANY,
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "VariableList": _list("Variable"),
    "VariableValue": _obj(
        {"id": UUID, "variable_id": UUID, "learner_id": UUID, "course_run_id": NUUID, "value": ANY, "recorded_at": TIME}
    ),
    "VariableValueList": _list("VariableValue"),
    "RecordedValue": _obj(
        {
            "id": UUID,
            "variable_id": UUID,
            "learner_id": UUID,
            "course_run_id": NUUID,
            "value": ANY,
            "recorded_at": TIME,
            "propagated": {
                "type": "array",
                "description": "The values recorded along the variable's connections, in the same transaction",
                "items": _obj({"variable_id": UUID, "value_id": UUID, "connection_id": UUID}),
            },
        }
    ),
    "Chatbot": _obj(CHATBOT),
    "ChatbotList": _list("Chatbot"),
    "Pipeline": _obj(PIPELINE),
    "PipelineList": _list("Pipeline"),
    "PipelineNode": _obj(NODE),
    "PipelineConnection": _obj(CONNECTION),
    "PipelineDetail": _obj(
        {
            **PIPELINE,
            "nodes": {"type": "array", "items": _ref("PipelineNode")},
            "connections": {"type": "array", "items": _ref("PipelineConnection")},
        }
    ),
    "PipelineCreate": {
        **_obj({"name": STR, "description": NSTR, "active": {"type": "boolean", "default": True}}, ["name"]),
        "example": {"name": "Python tutoring", "description": "Quiz score to the tutor, skill level onwards"},
    },
    "PipelineUpdate": {
        **_obj({"name": STR, "description": NSTR, "active": {"type": "boolean"}}, []),
        "example": {"active": False},
    },
    "PipelineNodeCreate": {
        **_obj(
            {
                "component_kind": {"type": "string", "enum": ["course", "chatbot"]},
                "component_id": UUID,
                "x": {"type": "number", "default": 0},
                "y": {"type": "number", "default": 0},
            },
            ["component_kind", "component_id"],
        ),
        "example": {"component_kind": "chatbot", "component_id": EXAMPLE_ID, "x": 320, "y": 80},
    },
    "ConnectionCreate": {
        **_obj(
            {
                "source_variable_id": {**UUID, "description": "An output variable"},
                "target_variable_id": {**UUID, "description": "An input variable of another component"},
                "backfill": {
                    "type": "boolean",
                    "default": False,
                    "description": "Copy the source's current values to every learner whose target is older or missing",
                },
            },
            ["source_variable_id", "target_variable_id"],
        ),
        "example": {"source_variable_id": EXAMPLE_ID, "target_variable_id": EXAMPLE_ID, "backfill": True},
    },
    "ConnectionCreated": _obj(
        {**CONNECTION, "backfilled": {"type": "integer", "description": "Values copied by `backfill` (0 without)"}}
    ),
    "SetVariable": {
        **_obj(
            {
                "variable_id": UUID,
                "learner_id": UUID,
                "course_run_id": NUUID,
                "value": ANY,
                "expected_value_id": {
                    **NUUID,
                    "description": "Compare-and-set: record only if the current value of (variable, learner, run) "
                    "has this id; null: only if there is none yet. Otherwise 409 with `current`.",
                },
            },
            ["variable_id", "learner_id", "value"],
        ),
        "example": {"variable_id": EXAMPLE_ID, "learner_id": EXAMPLE_ID, "value": 87},
    },
    "SetVariables": {
        **_obj(
            {
                "values": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": _obj(
                        {"variable_id": UUID, "learner_id": UUID, "course_run_id": NUUID, "value": ANY},
                        ["variable_id", "learner_id", "value"],
                    ),
                }
            }
        ),
        "example": {"values": [{"variable_id": EXAMPLE_ID, "learner_id": EXAMPLE_ID, "value": 87}]},
    },
    "RecordedValueList": _obj({"data": {"type": "array", "items": _ref("RecordedValue")}}),
    "Aggregate": _obj(
        {
            "variable_id": UUID,
            "type": VARIABLE_TYPE,
            "course_run_id": NUUID,
            "values_recorded": {"type": "integer"},
            "learners_with_value": {"type": "integer"},
            "first_recorded_at": NTIME,
            "last_recorded_at": NTIME,
            "numeric": {
                "nullable": True,
                **_obj(
                    {
                        "count": {"type": "integer"},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "mean": {"type": "number"},
                        "sum": {"type": "number"},
                        "stddev": {"type": "number"},
                        "median": {"type": "number"},
                        "percentiles": _obj({k: {"type": "number"} for k in ("p25", "p50", "p75", "p90")}),
                    }
                ),
            },
            "distribution": {
                "nullable": True,
                "type": "array",
                "items": _obj({"value": ANY, "count": {"type": "integer"}}),
            },
        }
    ),
    "LearnerExport": _obj(
        {
            "learner": _ref("Learner"),
            "enrollments": {
                "type": "array",
                "items": _obj({"id": UUID, "course_id": UUID, "course_run_id": NUUID, "enrolled_at": TIME}),
            },
            "current_values": {"type": "array", "items": _ref("LearnerVariable")},
            "values": {
                "type": "array",
                "description": "Every value ever recorded for the learner, newest first",
                "items": _ref("VariableValue"),
            },
        }
    ),
    "Member": _obj({"user_id": STR, "email": STR, "role": ROLE, "created_at": TIME}),
    "MemberList": _list("Member"),
    "MemberUpdate": _obj({"role": ROLE}, ["role"]),
    "InvitationCreate": {
        **_obj({"email": {"type": "string", "format": "email"}, "role": ROLE}, ["email"]),
        "example": {"email": "colleague@example.com", "role": "admin"},
    },
    "InvitationCreated": _obj(
        {
            "id": UUID,
            "email": STR,
            "role": ROLE,
            "invited_by": STR,
            "created_at": TIME,
            "expires_at": TIME,
            "link": {
                "type": "string",
                "nullable": True,
                "description": "A one-time sign-in link for the invitee, relative to this server (embedded mode; "
                "null with Supabase, where the invitee signs up with the invited email, and in a replay of an "
                "Idempotency-Key: the link is never stored)",
            },
            "secret_withheld": SECRET_WITHHELD,
        },
        ["id", "email", "role", "invited_by", "created_at", "expires_at", "link"],
    ),
    "AuditEntry": _obj(
        {
            "id": UUID,
            "actor": {"type": "string", "description": "`key:<id>` or `user:<id>`"},
            "actor_email": {"type": "string", "nullable": True},
            "action": {"type": "string", "example": "api_key.created"},
            "target_type": STR,
            "target_id": NUUID,
            "details": {"type": "object", "nullable": True},
            "created_at": TIME,
        }
    ),
    "AuditEntryList": _list("AuditEntry"),
    "ApiKey": _obj(API_KEY),
    "ApiKeyCreated": _obj(
        {
            **API_KEY,
            "key": {
                "type": "string",
                "nullable": True,
                "description": "The secret, shown only once: null in a replay of an Idempotency-Key (never stored)",
            },
            "secret_withheld": SECRET_WITHHELD,
        },
        [*API_KEY, "key"],
    ),
    "ApiKeyList": _list("ApiKey"),
    "ApiKeyCreate": _obj(
        {
            "name": STR,
            "expires_at": NTIME,
            "scopes": {
                "type": "array",
                "items": {"type": "string", "enum": ["read", "write"]},
                "description": 'Absent: full access. ["read"]: GET and GraphQL queries only. ["write"] (or '
                "both): reads and value writes (set, set-many).",
            },
            "course_ids": {
                "type": "array",
                "items": UUID,
                "description": "Confines the key to these courses (1 to 100): their variables and values, and "
                "learners' values in them; every other course, chatbot and pipeline is a 404. Absent: every course.",
            },
        },
        ["name"],
    ),
    "ApiKeyRoll": _obj(
        {"grace_seconds": {"type": "integer", "minimum": 0, "maximum": MAX_GRACE_SECONDS, "default": 86400}}
    ),
    "ApiKeyUsage": _obj(
        {
            "key_id": UUID,
            "data": {
                "type": "array",
                "items": _obj(
                    {
                        "day": {"type": "string", "format": "date"},
                        "requests": {"type": "integer"},
                        "rate_limited": {"type": "integer"},
                    }
                ),
            },
        }
    ),
}

ERROR_TEXT = {
    400: "Invalid request parameters",
    401: "Invalid or missing API key",
    403: "Not allowed for this credential",
    404: "Resource not found",
    409: "Conflict (a compare-and-set's `current` value; `idempotency_key_in_progress`: retry shortly)",
    413: "Request body too large",
    422: "This Idempotency-Key was used with another request (`idempotency_key_reused`)",
    429: "Rate limit exceeded",
}
KEY_AUTH: list[dict[str, list[str]]] = [
    {"BearerApiKey": []},
    {"HeaderApiKey": []},
    {"QueryApiKey": []},
    {"UserToken": []},
]
USER_AUTH: list[dict[str, list[str]]] = [{"UserToken": []}]


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Makes a retry safe: the same key and request within 24 hours answers the first status and body "
    "(with `Idempotent-Replayed: true`) and writes nothing, a refusal included; the same key with another request "
    "is 422. Secrets are never stored: a replay of a new or rolled key or of an invitation answers it with `key` "
    "or `link` null and `secret_withheld: true`.",
}


ORGANIZATION_ID = {
    "name": "X-Organization-Id",
    "in": "header",
    "required": False,
    "schema": UUID,
    "description": "With a user token: the organization to act in, one the user is a member of (default: the first "
    "they joined). Ignored with an API key, which belongs to one organization.",
}
CREDENTIAL_TEXT = {
    False: "**Credential:** an API key (`Authorization: Bearer`, `X-API-Key` or `?apiKey=`) or a signed-in user's "
    "token.",
    True: "**Credential:** a signed-in user's token (`Authorization: Bearer <JWT>`) only: an API key gets 403, "
    "since keys cannot manage keys.",
}
_INT = {"schema": {"type": "integer"}}
RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the current window", **_INT},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window", **_INT},
    "X-RateLimit-Reset": {"description": "Seconds until the window resets", **_INT},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", **_INT}}


def _parameter(p: Param, tag: str, examples: dict[str, str]) -> dict[str, Any]:
    """A parameter; its example is the one named `<tag>.<name>` (a chatbot's external id), else `<name>`."""
    param = {"name": p.name, "in": p.where, "required": p.required, "schema": p.schema, "description": p.description}
    example = examples.get(f"{tag}.{p.name}", examples.get(p.name))
    if example is not None and p.where == "path":
        param["example"] = example
    return param


def _operation(e: Endpoint, examples: dict[str, Any]) -> dict[str, Any]:
    # Every change may be refused to a member's role (403); every POST takes an Idempotency-Key (409, 422).
    errors = tuple(
        sorted({*e.errors, *(() if e.method == "GET" else (403,)), *((409, 422) if e.method == "POST" else ())})
    )
    params = examples.get("params", {})
    op: dict[str, Any] = {
        "summary": e.summary,
        "description": CREDENTIAL_TEXT[e.user_only],
        "tags": [e.tag],
        "operationId": e.handler.__name__,
        "security": USER_AUTH if e.user_only else KEY_AUTH,
        "parameters": [_parameter(p, e.tag, params) for p in e.params]
        + [ORGANIZATION_ID]
        + ([IDEMPOTENCY_KEY] if e.method == "POST" else []),
        "responses": {
            str(e.status): {"description": "No content", "headers": RATE_HEADERS}
            if e.status == 204
            else {
                "description": "OK" if e.status == 200 else "Created",
                "headers": RATE_HEADERS,
                "content": {
                    e.media_type: {"schema": _ref(e.response) if e.response else {"type": "string"}},
                },
            },
            **{
                str(code): {
                    "description": ERROR_TEXT[code],
                    **({"headers": {**RATE_HEADERS, **RETRY_AFTER}} if code == 429 else {}),
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for code in errors
            },
        },
    }
    if e.body:
        content: dict[str, Any] = {"schema": _ref(e.body)}
        if e.body in examples.get("bodies", {}):
            content["example"] = examples["bodies"][e.body]
        op["requestBody"] = {"required": True, "content": {"application/json": content}}
    return op


def spec(examples: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI document; `examples` (path parameters and bodies by name) replace the generic ones."""
    paths: dict[str, dict[str, Any]] = {}
    for e in ENDPOINTS:
        paths.setdefault(e.documented_path, {})[e.method.lower()] = _operation(e, examples or {})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "CoursePipeline API",
            "version": "1.0.0",
            "description": "Course variables and per-learner values. Errors are always "
            '`{"error": "<code>", "message": "<text>"}`. Limits: 100 requests/minute and 5,000/day per key.',
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "BearerApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Bearer YOUR_API_KEY",
                },
                "HeaderApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "QueryApiKey": {"type": "apiKey", "in": "query", "name": "apiKey"},
                "UserToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Supabase user access token (manages API keys)",
                },
            },
        },
    }
