"""DynamoDB table layouts as plain data, shared by the PynamoDB models, local mode and the CDK stack.

This module imports nothing outside the standard library so that the CDK app can read it without
the Lambda's dependencies, and so the test tables and the deployed ones cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str  # "S" or "N", as in DynamoDB's AttributeDefinitions


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None


@dataclass(frozen=True)
class TableLayout:
    logical_name: str  # stable id used for CDK construct ids and environment variable names
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    indexes: tuple[GlobalIndex, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None


# Models: one item per model. Listing newest-first reads an index instead of scanning: the models
# of one project share a `listKey` (model_list_key), and `createdKey` (createdAt#id) orders them.
MODEL_ID = KeyAttribute("id", "S")
MODEL_LIST_KEY = KeyAttribute("listKey", "S")
MODEL_CREATED_KEY = KeyAttribute("createdKey", "S")
MODEL_STATUS = KeyAttribute("status", "S")
MODELS_BY_CREATED = GlobalIndex("byCreated", MODEL_LIST_KEY, MODEL_CREATED_KEY)
MODELS_BY_STATUS = GlobalIndex("byStatus", MODEL_STATUS, MODEL_CREATED_KEY)
MODEL_LIST_KEY_VALUE = "MODEL"
# Every model belongs to a project; the models made before projects existed are in this one.
DEFAULT_PROJECT = "default"


def model_list_key(project: str) -> str:
    """The byCreated partition of a project's models. The default project's is the key every model had
    before projects existed, so those models are in it without being rewritten."""
    return MODEL_LIST_KEY_VALUE if project == DEFAULT_PROJECT else f"{MODEL_LIST_KEY_VALUE}#{project}"


# Sparse: only a model with start/stop schedules carries `scheduleKey`, so the reconciler's query
# each minute reads those models and nothing else.
MODEL_SCHEDULE_KEY = KeyAttribute("scheduleKey", "S")
MODELS_BY_SCHEDULE = GlobalIndex("bySchedule", MODEL_SCHEDULE_KEY, MODEL_CREATED_KEY)
MODEL_SCHEDULE_KEY_VALUE = "SCHEDULED"

MODELS = TableLayout(
    logical_name="Models",
    partition_key=MODEL_ID,
    indexes=(MODELS_BY_CREATED, MODELS_BY_STATUS, MODELS_BY_SCHEDULE),
)

# Operations log: who did what to a model and every status transition, newest first per model.
# `entryKey` is at#uuid so entries at the same millisecond stay distinct; `expiresAt` drives the TTL.
OPERATION_MODEL_ID = KeyAttribute("modelId", "S")
OPERATION_ENTRY_KEY = KeyAttribute("entryKey", "S")
OPERATIONS = TableLayout(
    logical_name="Operations",
    partition_key=OPERATION_MODEL_ID,
    sort_key=OPERATION_ENTRY_KEY,
    ttl_attribute="expiresAt",
)

# Client tokens for private prediction endpoints: one item per (model, client name); only a salted
# hash of each token is stored.
CLIENT_MODEL_ID = KeyAttribute("modelId", "S")
CLIENT_NAME = KeyAttribute("name", "S")
CLIENTS = TableLayout(logical_name="Clients", partition_key=CLIENT_MODEL_ID, sort_key=CLIENT_NAME)

# Deployment history: every deployment change, start, stop and rollback of a model with its full spec,
# newest first per model (`entryKey` is at#entryId). Kept without expiry: rollbacks read old entries.
DEPLOYMENT_MODEL_ID = KeyAttribute("modelId", "S")
DEPLOYMENT_ENTRY_KEY = KeyAttribute("entryKey", "S")
DEPLOYMENTS = TableLayout(logical_name="Deployments", partition_key=DEPLOYMENT_MODEL_ID, sort_key=DEPLOYMENT_ENTRY_KEY)

# Model names: one item per name, claimed with a conditional write, so names are unique and a
# prediction can name its model instead of giving the id.
NAME = KeyAttribute("name", "S")
NAMES = TableLayout(logical_name="Names", partition_key=NAME)

# Projects and their members: one `@project` item per project and one `member#<username>` item per member
# under the project's key. `byMember` (sparse: member items only) answers "my projects"; `byKind` (sparse:
# project items only) lists every project for the operators.
PROJECT = KeyAttribute("project", "S")
PROJECT_ENTRY = KeyAttribute("entry", "S")
PROJECT_ENTRY_VALUE = "@project"
MEMBER_ENTRY_PREFIX = "member#"
PROJECT_MEMBER = KeyAttribute("member", "S")
PROJECT_KIND = KeyAttribute("kind", "S")
PROJECT_KIND_VALUE = "PROJECT"
PROJECTS_BY_MEMBER = GlobalIndex("byMember", PROJECT_MEMBER, PROJECT)
PROJECTS_BY_KIND = GlobalIndex("byKind", PROJECT_KIND, PROJECT)
PROJECTS = TableLayout(
    logical_name="Projects",
    partition_key=PROJECT,
    sort_key=PROJECT_ENTRY,
    indexes=(PROJECTS_BY_MEMBER, PROJECTS_BY_KIND),
)

# Shadow tallies: one item per (model, shadow version), the comparisons since it became a shadow (`since`);
# consumers merge their batches into it with a conditional write on its revision.
SHADOW_MODEL_ID = KeyAttribute("modelId", "S")
SHADOW_VERSION = KeyAttribute("version", "N")
SHADOWS = TableLayout(logical_name="Shadows", partition_key=SHADOW_MODEL_ID, sort_key=SHADOW_VERSION)

# Replays of captured requests against a candidate version: one item per replay under its model, newest first
# (`replayId` starts with its creation time). `byActive` (sparse: only replays with work left carry
# `activeKey`) is what the reconciler reads each minute.
REPLAY_MODEL_ID = KeyAttribute("modelId", "S")
REPLAY_ID = KeyAttribute("replayId", "S")
REPLAY_ACTIVE_KEY = KeyAttribute("activeKey", "S")
REPLAY_ACTIVE_KEY_VALUE = "ACTIVE"
REPLAYS_BY_ACTIVE = GlobalIndex("byActive", REPLAY_ACTIVE_KEY, REPLAY_ID)
REPLAYS = TableLayout(
    logical_name="Replays", partition_key=REPLAY_MODEL_ID, sort_key=REPLAY_ID, indexes=(REPLAYS_BY_ACTIVE,)
)

ALL_TABLES: tuple[TableLayout, ...] = (MODELS, OPERATIONS, CLIENTS, DEPLOYMENTS, NAMES, PROJECTS, SHADOWS, REPLAYS)
