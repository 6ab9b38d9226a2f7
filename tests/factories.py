"""Building test data through the public GraphQL mutations, so tests exercise the same paths users do."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import GQL


async def course(gql: GQL, name: str | None = None, **fields: Any) -> dict[str, Any]:
    data = await gql(
        """mutation($input: CourseInput!) { createCourse(input: $input) {
             __typename ... on Course { id name externalId } ... on UserError { message } } }""",
        {"input": {"name": name or f"Course {uuid.uuid4().hex[:6]}", **fields}},
    )
    assert data["createCourse"]["__typename"] == "Course", data
    return data["createCourse"]


async def run(gql: GQL, course_id: str, name: str = "Spring cohort") -> dict[str, Any]:
    data = await gql(
        """mutation($input: CourseRunInput!) { createCourseRun(input: $input) {
             __typename ... on CourseRun { id courseId } ... on UserError { message } } }""",
        {"input": {"courseId": course_id, "name": name}},
    )
    assert data["createCourseRun"]["__typename"] == "CourseRun", data
    return data["createCourseRun"]


async def learner(gql: GQL, email: str | None = None, name: str = "Ada Lovelace", **fields: Any) -> dict[str, Any]:
    data = await gql(
        """mutation($input: LearnerInput!) { createLearner(input: $input) {
             __typename ... on Learner { id email name } ... on UserError { message } } }""",
        {"input": {"email": email or f"l-{uuid.uuid4().hex[:8]}@example.com", "name": name, **fields}},
    )
    assert data["createLearner"]["__typename"] == "Learner", data
    return data["createLearner"]


async def variable(
    gql: GQL, course_id: str | None, type_: str = "NUMBER", name: str | None = None, **fields: Any
) -> dict[str, Any]:
    data = await gql(
        """mutation($input: VariableInput!) { createVariable(input: $input) {
             __typename ... on Variable { id name type courseId } ... on UserError { message } } }""",
        {"input": {"courseId": course_id, "type": type_, "name": name or f"v_{uuid.uuid4().hex[:6]}", **fields}},
    )
    assert data["createVariable"]["__typename"] == "Variable", data
    return data["createVariable"]


SET = """mutation($input: SetVariableInput!) { setVariable(input: $input) {
  __typename
  ... on VariableValue { id value variableId learnerId courseRunId recordedAt }
  ... on UserError { code message field }
} }"""


async def set_value(
    gql: GQL, variable_id: str, learner_id: str, value: Any, course_run_id: str | None = None
) -> dict[str, Any]:
    data = await gql(
        SET,
        {"input": {"variableId": variable_id, "learnerId": learner_id, "value": value, "courseRunId": course_run_id}},
    )
    return data["setVariable"]


async def chatbot(gql: GQL, name: str | None = None, **fields: Any) -> dict[str, Any]:
    data = await gql(
        """mutation($input: ChatbotInput!) { createChatbot(input: $input) {
             __typename ... on Chatbot { id name externalId kind } ... on UserError { message } } }""",
        {"input": {"name": name or f"Bot {uuid.uuid4().hex[:6]}", **fields}},
    )
    assert data["createChatbot"]["__typename"] == "Chatbot", data
    return data["createChatbot"]


async def pipeline(gql: GQL, name: str | None = None, **fields: Any) -> dict[str, Any]:
    data = await gql(
        """mutation($input: PipelineInput!) { createPipeline(input: $input) {
             __typename ... on Pipeline { id name active } ... on UserError { message } } }""",
        {"input": {"name": name or f"Pipeline {uuid.uuid4().hex[:6]}", **fields}},
    )
    assert data["createPipeline"]["__typename"] == "Pipeline", data
    return data["createPipeline"]


NODE = """mutation($input: PipelineNodeInput!) { addPipelineNode(input: $input) {
  __typename ... on PipelineNode { id componentKind componentId } ... on UserError { code message field } } }"""


async def node(gql: GQL, pipeline_id: str, kind: str, component_id: str) -> dict[str, Any]:
    data = await gql(NODE, {"input": {"pipelineId": pipeline_id, "componentKind": kind, "componentId": component_id}})
    return data["addPipelineNode"]


CONNECT = """mutation($input: ConnectInput!) { connectVariables(input: $input) {
  __typename
  ... on ConnectionCreated { id pipelineId sourceVariableId targetVariableId backfilled }
  ... on UserError { code message field }
} }"""


async def connect(gql: GQL, pipeline_id: str, source: str, target: str, backfill: bool = False) -> dict[str, Any]:
    data = await gql(
        CONNECT,
        {"input": {"pipelineId": pipeline_id, "sourceVariableId": source, "targetVariableId": target,
                   "backfill": backfill}},
    )  # fmt: skip
    return data["connectVariables"]
