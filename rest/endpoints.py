"""The documented endpoints: one table drives both the routes and the OpenAPI description."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rest import exports
from rest import handlers as h
from rest.routing import HandlerApp, ResourceRoutes


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "path" or "query"
    schema: dict
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # Starlette form, e.g. /api/courses/{course_id}; a last segment that may hold "/" is {name:path}
    handler: Callable[[Request], Awaitable[Response]]
    summary: str
    tag: str
    response: str  # a component schema name
    status: int = 200
    params: tuple[Param, ...] = ()
    body: str | None = None  # a component schema name
    user_only: bool = False
    errors: tuple[int, ...] = field(default=(400, 401, 404, 429))
    media_type: str = "application/json"

    @property
    def documented_path(self) -> str:
        """The path as OpenAPI writes it (without Starlette's converters)."""
        return re.sub(r"\{(\w+):\w+\}", r"{\1}", self.path)


UUID = {"type": "string", "format": "uuid"}
LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "Page size")
OFFSET = Param("offset", "query", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}, "Rows to skip")
CURSOR = Param(
    "cursor",
    "query",
    {"type": "string", "minLength": 1, "maxLength": 512},
    "A `pagination.next_cursor` of this list: the next page (keyset: no duplicate, no gap while rows are written)",
)
ACTIVE = Param("active", "query", {"type": "boolean"}, "Filter by active status")


def path_id(name: str, what: str) -> Param:
    return Param(name, "path", UUID, f"The {what}'s id", required=True)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        "/api/api-keys",
        h.create_api_key,
        "Generate a new API key",
        "API keys",
        "ApiKeyCreated",
        status=201,
        body="ApiKeyCreate",
        user_only=True,
        errors=(400, 401, 403, 413, 429),
    ),
    Endpoint(
        "GET",
        "/api/api-keys",
        h.list_api_keys,
        "List all API keys",
        "API keys",
        "ApiKeyList",
        params=(LIMIT, OFFSET, CURSOR),
        user_only=True,
        errors=(400, 401, 403, 429),
    ),
    Endpoint(
        "POST",
        "/api/api-keys/{key_id}/revoke",
        h.revoke_api_key,
        "Revoke an API key",
        "API keys",
        "ApiKey",
        params=(path_id("key_id", "API key"),),
        user_only=True,
        errors=(400, 401, 403, 404, 429),
    ),
    Endpoint(
        "POST",
        "/api/api-keys/{key_id}/roll",
        h.roll_api_key,
        "Roll an API key: a new secret now, the old one working for grace_seconds (default 24 hours)",
        "API keys",
        "ApiKeyCreated",
        status=201,
        params=(path_id("key_id", "API key"),),
        body="ApiKeyRoll",
        user_only=True,
        errors=(400, 401, 403, 404, 413, 429),
    ),
    Endpoint(
        "GET",
        "/api/api-keys/{key_id}/usage",
        h.api_key_usage,
        "An API key's requests and 429s per UTC day, oldest first",
        "API keys",
        "ApiKeyUsage",
        params=(
            path_id("key_id", "API key"),
            Param("days", "query", {"type": "integer", "minimum": 1, "maximum": 90, "default": 30}, "How many days"),
        ),
        user_only=True,
        errors=(400, 401, 403, 404, 429),
    ),
    Endpoint(
        "GET",
        "/api/members",
        h.list_members,
        "List the organization's members and their roles",
        "Members",
        "MemberList",
        params=(LIMIT, OFFSET, CURSOR),
        user_only=True,
        errors=(400, 401, 403, 429),
    ),
    Endpoint(
        "POST",
        "/api/invitations",
        h.invite_member,
        "Invite an email with a role; answers a one-time sign-in link (embedded mode): owners and admins",
        "Members",
        "InvitationCreated",
        status=201,
        body="InvitationCreate",
        user_only=True,
        errors=(400, 401, 403, 409, 413, 429),
    ),
    Endpoint(
        "PATCH",
        "/api/members/{user_id}",
        h.change_member_role,
        "Change a member's role (the last owner keeps the owner role): owners and admins",
        "Members",
        "Member",
        params=(Param("user_id", "path", {"type": "string", "maxLength": 200}, "The member's user id", required=True),),
        body="MemberUpdate",
        user_only=True,
        errors=(400, 401, 403, 404, 409, 413, 429),
    ),
    Endpoint(
        "DELETE",
        "/api/members/{user_id}",
        h.remove_member,
        "Remove a member (never the last owner): owners and admins",
        "Members",
        "",
        status=204,
        params=(Param("user_id", "path", {"type": "string", "maxLength": 200}, "The member's user id", required=True),),
        user_only=True,
        errors=(400, 401, 403, 404, 409, 429),
    ),
    Endpoint(
        "GET",
        "/api/audit-log",
        h.audit_log,
        "List changes of keys, pipelines and data (who, what, when), newest first: for owners and admins",
        "Audit log",
        "AuditEntryList",
        params=(LIMIT, OFFSET, CURSOR),
        user_only=True,
        errors=(400, 401, 403, 429),
    ),
    Endpoint(
        "GET",
        "/api/variables",
        h.list_variables,
        "List variables",
        "Variables",
        "VariableList",
        params=(Param("course_id", "query", UUID, "Filter by course id"), ACTIVE, LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "POST",
        "/api/variables/set",
        h.set_variable,
        "Set a variable value for a learner (and carry it along the variable's connections)",
        "Variables",
        "RecordedValue",
        status=201,
        body="SetVariable",
        errors=(400, 401, 404, 409, 413, 429),
    ),
    Endpoint(
        "POST",
        "/api/variables/set-many",
        h.set_variables,
        "Set 1 to 1,000 values in one transaction, all or none (one request of the rate budget)",
        "Variables",
        "RecordedValueList",
        status=201,
        body="SetVariables",
        errors=(400, 401, 413, 429),
    ),
    Endpoint(
        "GET",
        "/api/variables/{variable_id}",
        h.get_variable,
        "Get variable details",
        "Variables",
        "Variable",
        params=(path_id("variable_id", "variable"),),
    ),
    Endpoint(
        "GET",
        "/api/variables/{variable_id}/values",
        h.list_variable_values,
        "Get variable values",
        "Variables",
        "VariableValueList",
        params=(
            path_id("variable_id", "variable"),
            Param("learner_id", "query", UUID, "Filter by learner id"),
            LIMIT,
            OFFSET,
            CURSOR,
        ),
    ),
    Endpoint(
        "GET",
        "/api/variables/{variable_id}/values.csv",
        exports.variable_values_csv,
        "Export a variable's values as CSV (streamed; newest first; RFC 4180, UTF-8, a header row)",
        "Variables",
        "",
        params=(path_id("variable_id", "variable"), Param("learner_id", "query", UUID, "Only this learner's")),
        media_type="text/csv",
    ),
    Endpoint(
        "GET",
        "/api/variables/{variable_id}/aggregate",
        h.variable_aggregate,
        "Get variable aggregation",
        "Variables",
        "Aggregate",
        params=(
            path_id("variable_id", "variable"),
            Param("course_run_id", "query", UUID, "Only values recorded in this course run"),
        ),
    ),
    Endpoint(
        "GET",
        "/api/courses",
        h.list_courses,
        "List courses",
        "Courses",
        "CourseList",
        params=(ACTIVE, LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "GET",
        "/api/courses/external/{external_id:path}",
        h.get_course_by_external_id,
        "Get course by external ID",
        "Courses",
        "Course",
        params=(Param("external_id", "path", {"type": "string"}, "Your system's id", required=True),),
    ),
    Endpoint(
        "GET",
        "/api/courses/{course_id}",
        h.get_course,
        "Get course details",
        "Courses",
        "Course",
        params=(path_id("course_id", "course"),),
    ),
    Endpoint(
        "GET",
        "/api/courses/{course_id}/variables",
        h.list_course_variables,
        "Get course variables",
        "Courses",
        "VariableList",
        params=(path_id("course_id", "course"), ACTIVE, LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "GET",
        "/api/courses/{course_id}/stats",
        h.course_stats,
        "Get course statistics",
        "Courses",
        "CourseStats",
        params=(path_id("course_id", "course"),),
    ),
    Endpoint(
        "GET",
        "/api/chatbots",
        h.list_chatbots,
        "List chatbots",
        "Chatbots",
        "ChatbotList",
        params=(ACTIVE, LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "GET",
        "/api/chatbots/external/{external_id:path}",
        h.get_chatbot_by_external_id,
        "Get chatbot by external ID",
        "Chatbots",
        "Chatbot",
        params=(Param("external_id", "path", {"type": "string"}, "Your system's id", required=True),),
    ),
    Endpoint(
        "GET",
        "/api/chatbots/{chatbot_id}",
        h.get_chatbot,
        "Get chatbot details",
        "Chatbots",
        "Chatbot",
        params=(path_id("chatbot_id", "chatbot"),),
    ),
    Endpoint(
        "GET",
        "/api/chatbots/{chatbot_id}/variables",
        h.list_chatbot_variables,
        "Get chatbot variables",
        "Chatbots",
        "VariableList",
        params=(path_id("chatbot_id", "chatbot"), ACTIVE, LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "GET",
        "/api/pipelines",
        h.list_pipelines,
        "List pipelines",
        "Pipelines",
        "PipelineList",
        params=(LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "POST",
        "/api/pipelines",
        h.create_pipeline,
        "Create a pipeline",
        "Pipelines",
        "PipelineDetail",
        status=201,
        body="PipelineCreate",
        errors=(400, 401, 409, 413, 429),
    ),
    Endpoint(
        "GET",
        "/api/pipelines/{pipeline_id}",
        h.get_pipeline,
        "Get a pipeline with its nodes and connections",
        "Pipelines",
        "PipelineDetail",
        params=(path_id("pipeline_id", "pipeline"),),
    ),
    Endpoint(
        "PATCH",
        "/api/pipelines/{pipeline_id}",
        h.update_pipeline,
        "Rename, describe, or turn a pipeline on or off",
        "Pipelines",
        "PipelineDetail",
        params=(path_id("pipeline_id", "pipeline"),),
        body="PipelineUpdate",
        errors=(400, 401, 404, 409, 413, 429),
    ),
    Endpoint(
        "DELETE",
        "/api/pipelines/{pipeline_id}",
        h.delete_pipeline,
        "Delete a pipeline with its nodes and connections (values already carried stay)",
        "Pipelines",
        "",
        status=204,
        params=(path_id("pipeline_id", "pipeline"),),
    ),
    Endpoint(
        "POST",
        "/api/pipelines/{pipeline_id}/nodes",
        h.add_pipeline_node,
        "Place a course or a chatbot in a pipeline",
        "Pipelines",
        "PipelineNode",
        status=201,
        params=(path_id("pipeline_id", "pipeline"),),
        body="PipelineNodeCreate",
        errors=(400, 401, 404, 409, 413, 429),
    ),
    Endpoint(
        "DELETE",
        "/api/pipelines/{pipeline_id}/nodes/{node_id}",
        h.remove_pipeline_node,
        "Remove a node and every connection to or from its variables",
        "Pipelines",
        "",
        status=204,
        params=(path_id("pipeline_id", "pipeline"), path_id("node_id", "node")),
    ),
    Endpoint(
        "POST",
        "/api/pipelines/{pipeline_id}/connections",
        h.connect_variables,
        "Connect an output variable to an input variable",
        "Pipelines",
        "ConnectionCreated",
        status=201,
        params=(path_id("pipeline_id", "pipeline"),),
        body="ConnectionCreate",
        errors=(400, 401, 404, 409, 413, 429),
    ),
    Endpoint(
        "DELETE",
        "/api/pipelines/{pipeline_id}/connections/{connection_id}",
        h.disconnect_variables,
        "Remove a connection (values it carried stay)",
        "Pipelines",
        "",
        status=204,
        params=(path_id("pipeline_id", "pipeline"), path_id("connection_id", "connection")),
    ),
    Endpoint(
        "GET",
        "/api/learners",
        h.list_learners,
        "List learners",
        "Learners",
        "LearnerList",
        params=(
            LIMIT,
            OFFSET,
            CURSOR,
            Param("search", "query", {"type": "string", "maxLength": 200}, "Name or email, any case"),
        ),
    ),
    Endpoint(
        "GET",
        "/api/learners/email/{email:path}",
        h.get_learner_by_email,
        "Get learner by email",
        "Learners",
        "Learner",
        params=(Param("email", "path", {"type": "string"}, "Any case", required=True),),
    ),
    Endpoint(
        "GET",
        "/api/learners/{learner_id}",
        h.get_learner,
        "Get learner details",
        "Learners",
        "Learner",
        params=(path_id("learner_id", "learner"),),
    ),
    Endpoint(
        "DELETE",
        "/api/learners/{learner_id}",
        h.erase_learner,
        "Erase a learner: their values (history, current and carried copies) and enrolments, irreversibly",
        "Learners",
        "",
        status=204,
        params=(path_id("learner_id", "learner"),),
    ),
    Endpoint(
        "GET",
        "/api/learners/{learner_id}/courses",
        h.learner_courses,
        "Get learner courses",
        "Learners",
        "CourseList",
        params=(path_id("learner_id", "learner"), LIMIT, OFFSET, CURSOR),
    ),
    Endpoint(
        "GET",
        "/api/learners/{learner_id}/export",
        exports.learner_export,
        "Export everything held about a learner: details, enrolments, current values and every value (streamed)",
        "Learners",
        "LearnerExport",
        params=(path_id("learner_id", "learner"),),
    ),
    Endpoint(
        "GET",
        "/api/learners/{learner_id}/variables",
        h.learner_variables,
        "Get learner variables",
        "Learners",
        "LearnerVariableList",
        params=(
            path_id("learner_id", "learner"),
            Param("course_id", "query", UUID, "Filter by course id"),
            LIMIT,
            OFFSET,
            CURSOR,
        ),
    ),
)


def routes() -> ResourceRoutes:
    return ResourceRoutes(
        [Route(e.path, HandlerApp(e.handler), methods=[e.method], name=e.handler.__name__) for e in ENDPOINTS]
    )
