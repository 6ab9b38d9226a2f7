"""The GraphQL document behind each REST endpoint, one named operation each.

Aliases give the REST field names (snake_case), so a response is the GraphQL data with at most a light reshape.
Each document carries only the fragments it uses (GraphQL rejects unused ones); a test validates all of them.
"""

from __future__ import annotations

FRAGMENTS = {
    "CourseFields": """fragment CourseFields on Course {
  id external_id: externalId name description active created_at: createdAt updated_at: updatedAt
}""",
    "LearnerFields": """fragment LearnerFields on Learner {
  id email name external_id: externalId created_at: createdAt
}""",
    "VariableFields": """fragment VariableFields on Variable {
  id course_id: courseId chatbot_id: chatbotId name description type direction active default_value: defaultValue
  created_at: createdAt updated_at: updatedAt
}""",
    "ChatbotFields": """fragment ChatbotFields on Chatbot {
  id external_id: externalId name description kind active created_at: createdAt updated_at: updatedAt
}""",
    "PipelineFields": """fragment PipelineFields on Pipeline {
  id name description active created_at: createdAt updated_at: updatedAt
}""",
    "NodeFields": """fragment NodeFields on PipelineNode {
  id pipeline_id: pipelineId component_kind: componentKind component_id: componentId name x y created_at: createdAt
}""",
    "ConnectionFields": """fragment ConnectionFields on PipelineConnection {
  id pipeline_id: pipelineId source_variable_id: sourceVariableId target_variable_id: targetVariableId
  created_at: createdAt
}""",
    "PipelineDetail": """fragment PipelineDetail on Pipeline {
  ...PipelineFields nodes { ...NodeFields } connections { ...ConnectionFields }
}""",
    "ValueFields": """fragment ValueFields on VariableValue {
  id variable_id: variableId learner_id: learnerId course_run_id: courseRunId value recorded_at: recordedAt
}""",
    "ApiKeyFields": """fragment ApiKeyFields on ApiKey {
  id name prefix created_at: createdAt expires_at: expiresAt revoked_at: revokedAt last_used_at: lastUsedAt scope
  course_ids: courseIds
}""",
    "NewKeyFields": """fragment NewKeyFields on ApiKeyCreated {
  id name prefix created_at: createdAt expires_at: expiresAt revoked_at: revokedAt last_used_at: lastUsedAt scope key
  course_ids: courseIds
}""",
    "Propagated": """fragment Propagated on VariableValue {
  propagated { variable_id: variableId value_id: valueId connection_id: connectionId }
}""",
    "PageFields": """fragment PageFields on Pagination { limit offset has_more: hasMore next_cursor: nextCursor }""",
    "ErrorFields": """fragment ErrorFields on UserError { code message field }""",
}


def _document(body: str) -> str:
    """The operation with the fragments it uses, and those its fragments use."""
    used: list[str] = []
    pending = [body]
    while pending:
        text = pending.pop()
        for name, fragment in FRAGMENTS.items():
            if f"...{name}" in text and fragment not in used:
                used.append(fragment)
                pending.append(fragment)
    return "\n".join([body.strip(), *used])


_BODIES = {
    "CreateApiKey": """
mutation CreateApiKey($name: String!, $expiresAt: DateTime, $scope: ApiKeyScope, $courseIds: [UUID!]) {
  result: createApiKey(input: {name: $name, expiresAt: $expiresAt, scope: $scope, courseIds: $courseIds}) {
    __typename ... on ApiKeyCreated { ...NewKeyFields } ... on UserError { ...ErrorFields }
  }
}""",
    "RollApiKey": """
mutation RollApiKey($id: UUID!, $graceSeconds: Int!) {
  result: rollApiKey(id: $id, graceSeconds: $graceSeconds) {
    __typename ... on ApiKeyCreated { ...NewKeyFields } ... on UserError { ...ErrorFields }
  }
}""",
    "ApiKeyUsage": """
query ApiKeyUsage($id: UUID!, $days: Int!) {
  result: apiKeyUsage(id: $id, days: $days) { day requests rate_limited: rateLimited }
}""",
    "ListApiKeys": """
query ListApiKeys { result: apiKeys { ...ApiKeyFields } }""",
    "RevokeApiKey": """
mutation RevokeApiKey($id: UUID!) {
  result: revokeApiKey(id: $id) {
    __typename
    ... on ApiKey { ...ApiKeyFields }
    ... on UserError { ...ErrorFields }
  }
}""",
    "ListVariables": """
query ListVariables($courseId: UUID, $active: Boolean, $limit: Int!, $offset: Int!, $cursor: String) {
  result: variables(courseId: $courseId, active: $active, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...VariableFields } pagination { ...PageFields }
  }
}""",
    "GetVariable": """
query GetVariable($id: UUID!) { result: variable(id: $id) { ...VariableFields } }""",
    "ListVariableValues": """
query ListVariableValues($id: UUID!, $learnerId: UUID, $limit: Int!, $offset: Int!, $cursor: String) {
  result: variableValues(variableId: $id, learnerId: $learnerId, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...ValueFields } pagination { ...PageFields }
  }
}""",
    "SetVariable": """
mutation SetVariable($variableId: UUID!, $learnerId: UUID!, $courseRunId: UUID, $value: JSON!) {
  result: setVariable(input: {variableId: $variableId, learnerId: $learnerId, courseRunId: $courseRunId,
                              value: $value}) {
    __typename
    ... on VariableValue { ...ValueFields ...Propagated }
    ... on UserError { ...ErrorFields }
  }
}""",
    "SetVariableExpecting": """
mutation SetVariableExpecting($variableId: UUID!, $learnerId: UUID!, $courseRunId: UUID, $value: JSON!,
                              $expectedValueId: UUID) {
  result: setVariable(input: {variableId: $variableId, learnerId: $learnerId, courseRunId: $courseRunId,
                              value: $value, expectedValueId: $expectedValueId}) {
    __typename
    ... on VariableValue { ...ValueFields ...Propagated }
    ... on ValueConflictError { current { ...ValueFields } }
    ... on UserError { ...ErrorFields }
  }
}""",
    "SetVariables": """
mutation SetVariables($values: [SetVariableInput!]!, $validateOnly: Boolean! = false) {
  result: setVariables(input: {values: $values}, validateOnly: $validateOnly) {
    __typename
    ... on RecordedValues { data { ...ValueFields ...Propagated } }
    ... on BatchError { items { index error: code message field } }
    ... on UserError { ...ErrorFields }
  }
}""",
    "VariableAggregate": """
query VariableAggregate($id: UUID!, $courseRunId: UUID) {
  result: variable(id: $id) {
    type
    aggregate(courseRunId: $courseRunId) {
      variable_id: variableId course_run_id: courseRunId
      values_recorded: valuesRecorded learners_with_value: learnersWithValue
      first_recorded_at: firstRecordedAt last_recorded_at: lastRecordedAt
      numeric { count min max mean sum stddev median percentiles { p25 p50 p75 p90 } }
      distribution { value count }
    }
  }
}""",
    "ListCourses": """
query ListCourses($active: Boolean, $limit: Int!, $offset: Int!, $cursor: String) {
  result: courses(active: $active, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...CourseFields } pagination { ...PageFields }
  }
}""",
    "GetCourse": """
query GetCourse($id: UUID!) { result: course(id: $id) { ...CourseFields } }""",
    "GetCourseByExternalId": """
query GetCourseByExternalId($externalId: String!) {
  result: courseByExternalId(externalId: $externalId) { ...CourseFields }
}""",
    "ListCourseVariables": """
query ListCourseVariables($id: UUID!, $active: Boolean, $limit: Int!, $offset: Int!, $cursor: String) {
  course(id: $id) { id }
  result: variables(courseId: $id, active: $active, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...VariableFields } pagination { ...PageFields }
  }
}""",
    "CourseStats": """
query CourseStats($id: UUID!) {
  result: course(id: $id) {
    id
    stats {
      enrolled_learners: enrolledLearners learners_with_values: learnersWithValues variables
      active_variables: activeVariables values_recorded: valuesRecorded last_activity_at: lastActivityAt
    }
  }
}""",
    "ListChatbots": """
query ListChatbots($active: Boolean, $limit: Int!, $offset: Int!, $cursor: String) {
  result: chatbots(active: $active, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...ChatbotFields } pagination { ...PageFields }
  }
}""",
    "GetChatbot": """
query GetChatbot($id: UUID!) { result: chatbot(id: $id) { ...ChatbotFields } }""",
    "GetChatbotByExternalId": """
query GetChatbotByExternalId($externalId: String!) {
  result: chatbotByExternalId(externalId: $externalId) { ...ChatbotFields }
}""",
    "ListChatbotVariables": """
query ListChatbotVariables($id: UUID!, $active: Boolean, $limit: Int!, $offset: Int!, $cursor: String) {
  chatbot(id: $id) { id }
  result: variables(chatbotId: $id, active: $active, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...VariableFields } pagination { ...PageFields }
  }
}""",
    "ListPipelines": """
query ListPipelines($limit: Int!, $offset: Int!, $cursor: String) {
  result: pipelines(limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...PipelineFields } pagination { ...PageFields }
  }
}""",
    "GetPipeline": """
query GetPipeline($id: UUID!) { result: pipeline(id: $id) { ...PipelineDetail } }""",
    "CreatePipeline": """
mutation CreatePipeline($input: PipelineInput!) {
  result: createPipeline(input: $input) {
    __typename ... on Pipeline { ...PipelineDetail } ... on UserError { ...ErrorFields }
  }
}""",
    "UpdatePipeline": """
mutation UpdatePipeline($id: UUID!, $input: PipelineUpdateInput!) {
  result: updatePipeline(id: $id, input: $input) {
    __typename ... on Pipeline { ...PipelineDetail } ... on UserError { ...ErrorFields }
  }
}""",
    "ListMembers": """
query ListMembers { result: members { user_id: userId email role created_at: createdAt } }""",
    "InviteMember": """
mutation InviteMember($input: InvitationInput!) {
  result: inviteMember(input: $input) {
    __typename
    ... on InvitationCreated {
      id email role invited_by: invitedBy created_at: createdAt expires_at: expiresAt link
    }
    ... on UserError { ...ErrorFields }
  }
}""",
    "ChangeMemberRole": """
mutation ChangeMemberRole($userId: String!, $role: MemberRole!) {
  result: changeMemberRole(userId: $userId, role: $role) {
    __typename ... on Member { user_id: userId email role created_at: createdAt } ... on UserError { ...ErrorFields }
  }
}""",
    "RemoveMember": """
mutation RemoveMember($userId: String!) {
  result: removeMember(userId: $userId) {
    __typename ... on Member { user_id: userId } ... on UserError { ...ErrorFields }
  }
}""",
    "AuditLog": """
query AuditLog($limit: Int!, $offset: Int!, $cursor: String) {
  result: auditLog(limit: $limit, offset: $offset, cursor: $cursor) {
    data {
      id actor actor_email: actorEmail action target_type: targetType target_id: targetId details
      created_at: createdAt
    }
    pagination { ...PageFields }
  }
}""",
    "EraseLearner": """
mutation EraseLearner($id: UUID!) {
  result: eraseLearner(id: $id) { __typename ... on Deleted { id } ... on UserError { ...ErrorFields } }
}""",
    "DeletePipeline": """
mutation DeletePipeline($id: UUID!) {
  result: deletePipeline(id: $id) { __typename ... on Deleted { id } ... on UserError { ...ErrorFields } }
}""",
    "AddPipelineNode": """
mutation AddPipelineNode($input: PipelineNodeInput!) {
  result: addPipelineNode(input: $input) {
    __typename ... on PipelineNode { ...NodeFields } ... on UserError { ...ErrorFields }
  }
}""",
    "RemovePipelineNode": """
mutation RemovePipelineNode($id: UUID!, $pipelineId: UUID!) {
  result: removePipelineNode(id: $id, pipelineId: $pipelineId) {
    __typename ... on Deleted { id } ... on UserError { ...ErrorFields }
  }
}""",
    "ConnectVariables": """
mutation ConnectVariables($input: ConnectInput!) {
  result: connectVariables(input: $input) {
    __typename
    ... on ConnectionCreated {
      id pipeline_id: pipelineId source_variable_id: sourceVariableId target_variable_id: targetVariableId
      created_at: createdAt backfilled
    }
    ... on UserError { ...ErrorFields }
  }
}""",
    "DisconnectVariables": """
mutation DisconnectVariables($id: UUID!, $pipelineId: UUID!) {
  result: disconnectVariables(id: $id, pipelineId: $pipelineId) {
    __typename ... on Deleted { id } ... on UserError { ...ErrorFields }
  }
}""",
    "ListLearners": """
query ListLearners($search: String, $limit: Int!, $offset: Int!, $cursor: String) {
  result: learners(search: $search, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...LearnerFields } pagination { ...PageFields }
  }
}""",
    "GetLearner": """
query GetLearner($id: UUID!) { result: learner(id: $id) { ...LearnerFields } }""",
    "GetLearnerByEmail": """
query GetLearnerByEmail($email: String!) { result: learnerByEmail(email: $email) { ...LearnerFields } }""",
    "LearnerCourses": """
query LearnerCourses($id: UUID!) {
  result: learner(id: $id) { courses { ...CourseFields } }
}""",
    "LearnerExport": """
query LearnerExport($id: UUID!) {
  result: learner(id: $id) {
    ...LearnerFields
    enrollments { id course_id: courseId course_run_id: courseRunId enrolled_at: enrolledAt }
    variables {
      variable_id: variableId name course_id: courseId type course_run_id: courseRunId value
      recorded_at: recordedAt value_id: valueId
    }
  }
}""",
    "ListLearnerValues": """
query ListLearnerValues($id: UUID!, $limit: Int!, $offset: Int!, $cursor: String) {
  result: learnerValues(learnerId: $id, limit: $limit, offset: $offset, cursor: $cursor) {
    data { ...ValueFields } pagination { ...PageFields }
  }
}""",
    "LearnerVariables": """
query LearnerVariables($id: UUID!, $courseId: UUID) {
  result: learner(id: $id) {
    variables(courseId: $courseId) {
      variable_id: variableId name course_id: courseId type course_run_id: courseRunId value
      recorded_at: recordedAt value_id: valueId
    }
  }
}""",
}

DOCUMENTS: dict[str, str] = {name: _document(body) for name, body in _BODIES.items()}
