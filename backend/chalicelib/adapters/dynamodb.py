"""DynamoDB through PynamoDB: the model repository, with conditional writes and index-only listing."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import operator
import random
import re
import time
import typing
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic.alias_generators import to_camel
from pynamodb.attributes import AttributeContainer, ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import tables
from chalicelib.adapters.aws_errors import MODEL_STORE, translate
from chalicelib.adapters.cursors import NOT_OURS, seal, unseal
from chalicelib.adapters.record_fields import FieldTable, from_plain, to_plain
from chalicelib.config import Settings
from chalicelib.domain.access import Role
from chalicelib.domain.clients import Client
from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.domain.comparison import DiffExample, Tally
from chalicelib.domain.errors import BadRequest, Conflict, NotFound, echoed, no_model
from chalicelib.domain.models import (
    DeploymentEntry,
    ModelRecord,
    ModelStatus,
    OperationEntry,
    SpecLine,
    setting_default,
)
from chalicelib.domain.ports import MODEL_FILTERS, ModelQuery, Page, ShadowTally
from chalicelib.domain.projects import Member, Project
from chalicelib.domain.quotas import Quota
from chalicelib.domain.replays import Replay, ReplayStatus

# A search filter may leave pages empty; this caps the items read per request (pages x page size)
# so a rare search term answers quickly with a token to continue instead of reading every model.
SEARCH_PAGE_SIZE = 200
SEARCH_PAGE_BUDGET = 5
MAX_KEY_BYTES = 1024  # DynamoDB's limit for a sort key, well above any id this code makes


class _Meta:
    """Connection settings shared by every table; `configure` fills in names and endpoint."""

    region = "us-east-1"
    host: str | None = None
    billing_mode = PAY_PER_REQUEST_BILLING_MODE
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3
    base_backoff_ms = 25


class _Item(Model):
    """A table class whose connection, however often PynamoDB rebuilds it, uses the client `configure` gave."""

    _given_client: Any = None

    @classmethod
    def _get_connection(cls) -> Any:
        connection = super()._get_connection()
        if _Item._given_client is not None:
            # PynamoDB builds clients from the default credential chain; local mode signs each
            # function's calls as its own identity, so the one client it gives must be the one used.
            connection.connection._client = _Item._given_client
        return connection


def _index_meta(index: tables.GlobalIndex) -> type:
    return type("Meta", (), {"index_name": index.name, "projection": AllProjection()})


class ModelsByCreated(GlobalSecondaryIndex["ModelItem"]):
    Meta = _index_meta(tables.MODELS_BY_CREATED)
    list_key = UnicodeAttribute(hash_key=True, attr_name=tables.MODEL_LIST_KEY.name)
    created_key = UnicodeAttribute(range_key=True, attr_name=tables.MODEL_CREATED_KEY.name)


class ModelsByStatus(GlobalSecondaryIndex["ModelItem"]):
    Meta = _index_meta(tables.MODELS_BY_STATUS)
    status = UnicodeAttribute(hash_key=True, attr_name=tables.MODEL_STATUS.name)
    created_key = UnicodeAttribute(range_key=True, attr_name=tables.MODEL_CREATED_KEY.name)


class ModelsBySchedule(GlobalSecondaryIndex["ModelItem"]):
    Meta = _index_meta(tables.MODELS_BY_SCHEDULE)
    schedule_key = UnicodeAttribute(hash_key=True, attr_name=tables.MODEL_SCHEDULE_KEY.name)
    created_key = UnicodeAttribute(range_key=True, attr_name=tables.MODEL_CREATED_KEY.name)


# The record's fields the item class declares itself: keys, index keys and what conditions test.
_DECLARED = frozenset({"id", "status", "name", "revision"})
MODEL_FIELDS = FieldTable(ModelRecord, _DECLARED, setting_default)

if TYPE_CHECKING:
    _ModelFields = object
else:  # every other record field, generated from the record's own definition
    _ModelFields = type("_ModelFields", (AttributeContainer,), MODEL_FIELDS.attributes())


class ModelItem(_Item, _ModelFields):
    class Meta(_Meta):
        table_name = "models"

    id = UnicodeAttribute(hash_key=True, attr_name=tables.MODEL_ID.name)
    list_key = UnicodeAttribute(attr_name=tables.MODEL_LIST_KEY.name)
    created_key = UnicodeAttribute(attr_name=tables.MODEL_CREATED_KEY.name)
    status = UnicodeAttribute(attr_name=tables.MODEL_STATUS.name)
    schedule_key = UnicodeAttribute(attr_name=tables.MODEL_SCHEDULE_KEY.name, null=True)
    name = UnicodeAttribute()
    revision = NumberAttribute()

    by_created = ModelsByCreated()
    by_status = ModelsByStatus()
    by_schedule = ModelsBySchedule()


class OperationItem(_Item):
    class Meta(_Meta):
        table_name = "operations"

    model_id = UnicodeAttribute(hash_key=True, attr_name=tables.OPERATION_MODEL_ID.name)
    entry_key = UnicodeAttribute(range_key=True, attr_name=tables.OPERATION_ENTRY_KEY.name)
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    from_status = UnicodeAttribute(attr_name="fromStatus", null=True)
    to_status = UnicodeAttribute(attr_name="toStatus", null=True)
    result = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(attr_name=tables.OPERATIONS.ttl_attribute)
    times = NumberAttribute(attr_name="count", default=1)  # `count` is a Model method
    last_at = UnicodeAttribute(attr_name="lastAt", null=True)


class ClientItem(_Item):
    class Meta(_Meta):
        table_name = "clients"

    model_id = UnicodeAttribute(hash_key=True, attr_name=tables.CLIENT_MODEL_ID.name)
    name = UnicodeAttribute(range_key=True, attr_name=tables.CLIENT_NAME.name)
    salt = UnicodeAttribute()
    digest = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    last_used_at = UnicodeAttribute(attr_name="lastUsedAt", null=True)


class DeploymentItem(_Item):
    class Meta(_Meta):
        table_name = "deployments"

    model_id = UnicodeAttribute(hash_key=True, attr_name=tables.DEPLOYMENT_MODEL_ID.name)
    entry_key = UnicodeAttribute(range_key=True, attr_name=tables.DEPLOYMENT_ENTRY_KEY.name)
    entry_id = UnicodeAttribute(attr_name="entryId")
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    message = UnicodeAttribute()
    spec = ListAttribute()  # type: ignore[var-annotated]


class NameItem(_Item):
    class Meta(_Meta):
        table_name = "names"

    name = UnicodeAttribute(hash_key=True, attr_name=tables.NAME.name)
    model_id = UnicodeAttribute(attr_name="modelId")


class ProjectsByMember(GlobalSecondaryIndex["ProjectItem"]):
    Meta = _index_meta(tables.PROJECTS_BY_MEMBER)
    member = UnicodeAttribute(hash_key=True, attr_name=tables.PROJECT_MEMBER.name)
    project = UnicodeAttribute(range_key=True, attr_name=tables.PROJECT.name)


class ProjectsByKind(GlobalSecondaryIndex["ProjectItem"]):
    Meta = _index_meta(tables.PROJECTS_BY_KIND)
    kind = UnicodeAttribute(hash_key=True, attr_name=tables.PROJECT_KIND.name)
    project = UnicodeAttribute(range_key=True, attr_name=tables.PROJECT.name)


class ProjectItem(_Item):
    """A project (`entry` = @project, with `kind`) or one of its members (`entry` = member#name, with `member`)."""

    class Meta(_Meta):
        table_name = "projects"

    project = UnicodeAttribute(hash_key=True, attr_name=tables.PROJECT.name)
    entry = UnicodeAttribute(range_key=True, attr_name=tables.PROJECT_ENTRY.name)
    kind = UnicodeAttribute(attr_name=tables.PROJECT_KIND.name, null=True)
    member = UnicodeAttribute(attr_name=tables.PROJECT_MEMBER.name, null=True)
    description = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    by = UnicodeAttribute()
    at = UnicodeAttribute()
    # The project's quota, one attribute per bound (chalicelib.domain.quotas.Quota's fields); absent: unbounded.
    max_vcpu = NumberAttribute(null=True)
    max_memory_gb = NumberAttribute(null=True)
    max_replicas = NumberAttribute(null=True)
    max_models = NumberAttribute(null=True)

    by_member = ProjectsByMember()
    by_kind = ProjectsByKind()


class ShadowItem(_Item):
    """A shadow version's tally since it became a shadow; `revision` makes each merge a conditional write."""

    class Meta(_Meta):
        table_name = "shadows"

    model_id = UnicodeAttribute(hash_key=True, attr_name=tables.SHADOW_MODEL_ID.name)
    version = NumberAttribute(range_key=True, attr_name=tables.SHADOW_VERSION.name)
    since = UnicodeAttribute()
    tally = UnicodeAttribute()  # JSON (tally_json): histogram keys and an infinite size are not DynamoDB values
    revision = NumberAttribute()


class ReplaysByActive(GlobalSecondaryIndex["ReplayItem"]):
    Meta = _index_meta(tables.REPLAYS_BY_ACTIVE)
    active_key = UnicodeAttribute(hash_key=True, attr_name=tables.REPLAY_ACTIVE_KEY.name)
    replay_id = UnicodeAttribute(range_key=True, attr_name=tables.REPLAY_ID.name)


class ReplayItem(_Item):
    """One replay: its keys, its revision (every write is conditional on it) and the rest as one JSON document."""

    class Meta(_Meta):
        table_name = "replays"

    model_id = UnicodeAttribute(hash_key=True, attr_name=tables.REPLAY_MODEL_ID.name)
    replay_id = UnicodeAttribute(range_key=True, attr_name=tables.REPLAY_ID.name)
    active_key = UnicodeAttribute(attr_name=tables.REPLAY_ACTIVE_KEY.name, null=True)
    candidate_version = NumberAttribute(attr_name="candidateVersion")
    status = UnicodeAttribute()
    revision = NumberAttribute()
    document = UnicodeAttribute()  # the replay's other fields (replay_document), the tally as tally_json

    by_active = ReplaysByActive()


ALL_ITEM_CLASSES: tuple[type[Model], ...] = (
    ModelItem,
    OperationItem,
    ClientItem,
    DeploymentItem,
    NameItem,
    ProjectItem,
    ShadowItem,
    ReplayItem,
)


def configure(settings: Settings, client: Any = None) -> None:
    """Point every table class at this process's table names, region and endpoint.

    `client` (a botocore DynamoDB client) replaces the ones PynamoDB would build; None keeps PynamoDB's.
    """
    _Item._given_client = client
    ModelItem.Meta.table_name = settings.models_table
    OperationItem.Meta.table_name = settings.operations_table
    ClientItem.Meta.table_name = settings.clients_table
    DeploymentItem.Meta.table_name = settings.deployments_table
    NameItem.Meta.table_name = settings.names_table
    ProjectItem.Meta.table_name = settings.projects_table
    ShadowItem.Meta.table_name = settings.shadows_table
    ReplayItem.Meta.table_name = settings.replays_table
    for item_class in ALL_ITEM_CLASSES:
        item_class.Meta.region = settings.region
        item_class.Meta.host = settings.aws_endpoint_url
        item_class._connection = None  # drop a connection built for earlier settings


def create_tables() -> None:
    """Create every table that does not exist yet, and the indexes a table from an earlier version lacks;
    for local mode and tests only (CDK owns real ones)."""
    for item_class in ALL_ITEM_CLASSES:
        if not item_class.exists():
            item_class.create_table(wait=True, billing_mode=PAY_PER_REQUEST_BILLING_MODE)
        else:
            _add_missing_indexes(item_class)


def _to_project(item: ProjectItem) -> Project:
    quota = Quota(**{f.name: getattr(item, f.name) for f in dataclasses.fields(Quota)})
    return Project(item.project, item.description or "", item.by, from_iso(item.at), quota)


def _to_member(item: ProjectItem) -> Member:
    return Member(item.project, str(item.member), Role[str(item.role)], item.by, from_iso(item.at))


class DynamoProjectDirectory:
    """ProjectDirectory on the projects table: every read is a GetItem or a Query on a key or an index."""

    def add(self, project: Project) -> None:
        item = ProjectItem(
            project.name,
            tables.PROJECT_ENTRY_VALUE,
            kind=tables.PROJECT_KIND_VALUE,
            description=project.description,
            by=project.created_by,
            at=to_iso(project.created_at),
        )
        try:
            with _translated_errors():
                item.save(condition=ProjectItem.project.does_not_exist())
        except _ConditionFailed:
            raise Conflict(f"a project named {project.name} already exists") from None

    def get(self, name: str) -> Project | None:
        if len(name.encode()) > MAX_KEY_BYTES:
            return None
        with _translated_errors():
            try:
                return _to_project(ProjectItem.get(name, tables.PROJECT_ENTRY_VALUE))
            except DoesNotExist:
                return None

    def every(self) -> list[Project]:
        with _translated_errors():
            return [_to_project(item) for item in ProjectItem.by_kind.query(tables.PROJECT_KIND_VALUE)]

    def set_quota(self, name: str, quota: Quota) -> None:
        item = ProjectItem(name, tables.PROJECT_ENTRY_VALUE)
        bounds = [getattr(ProjectItem, f.name) for f in dataclasses.fields(Quota)]
        actions = [
            bound.set(value) if (value := getattr(quota, bound.attr_name)) is not None else bound.remove()
            for bound in bounds
        ]
        try:
            with _translated_errors():
                item.update(actions=actions, condition=ProjectItem.project.exists())
        except _ConditionFailed:
            raise NotFound(f"no project named {name}") from None

    def remove(self, name: str) -> None:
        with _translated_errors():
            for item in ProjectItem.query(name):
                item.delete()

    def member(self, project: str, username: str) -> Member | None:
        if len(project.encode()) + len(username.encode()) > MAX_KEY_BYTES:
            return None
        with _translated_errors():
            try:
                return _to_member(ProjectItem.get(project, tables.MEMBER_ENTRY_PREFIX + username))
            except DoesNotExist:
                return None

    def members(self, project: str) -> list[Member]:
        with _translated_errors():
            found = ProjectItem.query(project, ProjectItem.entry.startswith(tables.MEMBER_ENTRY_PREFIX))
            return [_to_member(item) for item in found]

    def memberships(self, username: str) -> list[Member]:
        if len(username.encode()) > MAX_KEY_BYTES:
            return []
        with _translated_errors():
            return [_to_member(item) for item in ProjectItem.by_member.query(username)]

    def put_member(self, member: Member) -> None:
        item = ProjectItem(
            member.project,
            tables.MEMBER_ENTRY_PREFIX + member.username,
            member=member.username,
            role=member.role.name,
            by=member.added_by,
            at=to_iso(member.added_at),
        )
        with _translated_errors():
            item.save()

    def remove_member(self, project: str, username: str) -> None:
        with _translated_errors():
            ProjectItem(project, tables.MEMBER_ENTRY_PREFIX + username).delete()


def _add_missing_indexes(item_class: type[Model]) -> None:
    # Local mode restores its saved state: tables made before an index existed get it here, as CDK adds it on AWS.
    dynamo = item_class._get_connection().connection.client
    table = item_class.Meta.table_name
    described = dynamo.describe_table(TableName=table)["Table"]
    present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    schema = item_class._get_schema()
    for index in schema["global_secondary_indexes"]:
        if index["index_name"] in present:
            continue
        dynamo.update_table(
            TableName=table,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index["index_name"],
                        "KeySchema": index["key_schema"],
                        "Projection": index["projection"],
                    }
                }
            ],
        )


def _to_item(record: ModelRecord) -> ModelItem:
    return ModelItem(
        record.id,
        list_key=tables.model_list_key(record.project),
        created_key=f"{to_iso(record.created_at)}#{record.id}",
        status=record.status.value,
        schedule_key=tables.MODEL_SCHEDULE_KEY_VALUE if record.schedules else None,
        name=record.name,
        revision=record.revision,
        **MODEL_FIELDS.dump(record),
    )


def _optional_instant(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


def _to_record(item: ModelItem) -> ModelRecord:
    return ModelRecord(
        id=item.id,
        status=ModelStatus(item.status),
        name=item.name,
        revision=int(item.revision),
        **MODEL_FIELDS.load(item),
    )


class _ConditionFailed(Exception):
    """A conditional write found the item not as expected; each caller says what that means."""


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Conditional-write refusals become _ConditionFailed; any other storage failure, DependencyUnavailable."""
    try:
        yield
    except PynamoDBException as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise _ConditionFailed from None
        raise translate(error.cause or error, MODEL_STORE) from error


def _decode_key(token: str, fingerprint: str, key_names: Collection[str]) -> dict[str, Any]:
    key = unseal(token, fingerprint)
    valid = (
        isinstance(key, dict)
        and set(key) == set(key_names)
        and all(
            isinstance(value, dict) and len(value) == 1 and isinstance(value.get("S"), str) for value in key.values()
        )
    )
    if not valid:
        raise BadRequest(NOT_OURS)
    return key


class DynamoModelRepository:
    """ModelRepository on the models table; listing always queries an index, never scans."""

    def add(self, record: ModelRecord) -> None:
        try:
            with _translated_errors():
                _to_item(record).save(condition=ModelItem.id.does_not_exist())
        except _ConditionFailed:
            raise Conflict(f"a model with id {record.id} already exists") from None

    def get(self, model_id: str) -> ModelRecord:
        if len(model_id.encode()) > MAX_KEY_BYTES:  # DynamoDB would refuse the key itself
            raise no_model(model_id)
        with _translated_errors():
            try:
                return _to_record(ModelItem.get(model_id, consistent_read=True))
            except DoesNotExist:
                raise no_model(model_id) from None

    def replace(self, record: ModelRecord, expected_revision: int) -> None:
        try:
            with _translated_errors():
                _to_item(record).save(condition=ModelItem.id.exists() & (ModelItem.revision == expected_revision))
        except _ConditionFailed:
            self._changed_meanwhile(record.id)

    def remove(self, model_id: str, expected_revision: int, allowed: Collection[ModelStatus]) -> None:
        try:
            with _translated_errors():
                ModelItem(model_id).delete(
                    condition=(ModelItem.revision == expected_revision)
                    & ModelItem.status.is_in(*(status.value for status in allowed))
                )
        except _ConditionFailed:
            self._changed_meanwhile(model_id)

    def _changed_meanwhile(self, model_id: str) -> None:
        self.get(model_id)  # NotFound if it was deleted meanwhile
        raise Conflict("the model was changed by someone else meanwhile; reload and try again")

    def list(self, query: ModelQuery) -> Page[ModelRecord]:
        """Newest first across the query's index partitions (one per project), each read newest first and
        merged; the token is the creation key the next page starts below, so it holds across partitions."""
        partitions = self._partitions(query)
        filters = [getattr(query, name) for name in MODEL_FILTERS]
        fingerprint = json.dumps([[i.Meta.index_name, h] for i, h, _ in partitions] + filters)
        boundary = _decode_boundary(query.cursor, fingerprint) if query.cursor else None
        filtered = any(condition is not None for _, _, condition in partitions)
        page_size = SEARCH_PAGE_SIZE if filtered else query.limit
        page_budget = SEARCH_PAGE_BUDGET if filtered else 1
        found: list[ModelItem] = []
        # How far down each partition was read: every key at or above the shallowest one has been seen.
        read_to: list[str] = []
        with _translated_errors():
            for index, hash_value, condition in partitions:
                items, reached = _read_partition(
                    index, hash_value, condition, boundary, query.limit, page_size, page_budget
                )
                found += items
                if reached is not None:
                    read_to.append(reached)
        shallowest = max(read_to) if read_to else None
        seen = sorted(
            (item for item in found if shallowest is None or item.created_key >= shallowest),
            key=lambda item: item.created_key,
            reverse=True,
        )
        if len(seen) > query.limit:
            seen = seen[: query.limit]
            next_boundary: str | None = seen[-1].created_key
        else:
            next_boundary = shallowest
        records = [_to_record(item) for item in seen]
        return Page(records, seal(next_boundary, fingerprint) if next_boundary else None)

    def _partitions(self, query: ModelQuery) -> Sequence[tuple[GlobalSecondaryIndex[ModelItem], str, Any]]:
        if query.scheduled:
            return [(ModelItem.by_schedule, tables.MODEL_SCHEDULE_KEY_VALUE, _filter(query))]
        if query.projects is None:
            if query.status is None:
                raise ValueError("a listing of every project's models names its projects or a status")
            return [(ModelItem.by_status, query.status.value, _filter(query, with_status=False))]
        condition = _filter(query)
        return [(ModelItem.by_created, tables.model_list_key(p), condition) for p in sorted(set(query.projects))]


def _filter(query: ModelQuery, with_status: bool = True) -> Any:
    """The query's filters on an index partition's items, all of them; None when there are none."""
    conditions: list[Condition] = []
    if query.search:
        conditions.append(ModelItem.name.contains(query.search))
    if query.status and with_status:
        conditions.append(ModelItem.status == query.status.value)
    if query.created_by:
        conditions.append(MODEL_FIELDS.path("created_by") == query.created_by)
    if query.deployed_by:
        conditions.append(MODEL_FIELDS.path("deployed_by") == query.deployed_by)
    if query.metadata_key:
        entry = MODEL_FIELDS.path("metadata", query.metadata_key)
        conditions.append(entry.exists() if query.metadata_value is None else entry == query.metadata_value)
    return functools.reduce(operator.and_, conditions) if conditions else None


def _read_partition(
    index: GlobalSecondaryIndex[ModelItem],
    hash_value: str,
    condition: Any,
    boundary: str | None,
    limit: int,
    page_size: int,
    page_budget: int,
) -> tuple[list[ModelItem], str | None]:
    """Up to `limit` items below `boundary`, newest first, reading at most `page_budget` pages; and the
    creation key it read down to, or None when nothing is left below."""
    pages = index.query(
        hash_value,
        range_key_condition=ModelItem.created_key < boundary if boundary else None,
        filter_condition=condition,
        scan_index_forward=False,
        page_size=page_size,
    ).page_iter
    items: list[ModelItem] = []
    for pages_read, page in enumerate(pages, start=1):
        raw_items = page.get("Items", [])
        for position, raw in enumerate(raw_items):
            items.append(ModelItem.from_raw_data(raw))
            if len(items) == limit:
                more = position < len(raw_items) - 1 or pages.last_evaluated_key
                return items, items[-1].created_key if more else None
        next_key = pages.last_evaluated_key
        if not next_key:
            return items, None
        if pages_read >= page_budget:
            return items, str(next_key[tables.MODEL_CREATED_KEY.name]["S"])
    return items, None


def _decode_boundary(token: str, fingerprint: str) -> str:
    boundary = unseal(token, fingerprint)
    if not isinstance(boundary, str) or not boundary or len(boundary.encode()) > MAX_KEY_BYTES:
        raise BadRequest(NOT_OURS)
    return boundary


def _to_operation(item: OperationItem) -> OperationEntry:
    return OperationEntry(
        model_id=item.model_id,
        at=from_iso(item.at),
        actor=item.actor,
        action=item.action,
        from_status=ModelStatus(item.from_status) if item.from_status else None,
        to_status=ModelStatus(item.to_status) if item.to_status else None,
        result=item.result,
        reason=item.reason,
        count=int(item.times),
        last_at=from_iso(item.last_at) if item.last_at else None,
    )


class DynamoOperationsLog:
    """OperationsLog on the operations table; entries expire through DynamoDB's TTL."""

    def __init__(self, ttl_days: int) -> None:
        self._ttl = timedelta(days=ttl_days)

    def record(self, entry: OperationEntry) -> None:
        """A new line, or one more of the newest line when the entry repeats it (counted atomically)."""
        with _translated_errors():
            newest = next(iter(OperationItem.query(entry.model_id, scan_index_forward=False, limit=1)), None)
        if newest is not None and entry.repeats(_to_operation(newest)):
            try:
                with _translated_errors():
                    newest.update(
                        actions=[
                            OperationItem.times.add(1),
                            OperationItem.last_at.set(to_iso(entry.at)),
                            OperationItem.expires_at.set(entry.at + self._ttl),
                        ],
                        condition=OperationItem.entry_key.exists(),
                    )
                return
            except _ConditionFailed:
                pass  # it expired or went with its model since it was read: a new line, then
        with _translated_errors():
            OperationItem(
                entry.model_id,
                f"{to_iso(entry.at)}#{uuid.uuid4().hex[:12]}",
                at=to_iso(entry.at),
                actor=entry.actor,
                action=entry.action,
                from_status=entry.from_status.value if entry.from_status else None,
                to_status=entry.to_status.value if entry.to_status else None,
                result=entry.result,
                reason=entry.reason,
                expires_at=entry.at + self._ttl,
            ).save()

    def list(self, model_id: str, limit: int, cursor: str | None) -> Page[OperationEntry]:
        key_names = [tables.OPERATION_MODEL_ID.name, tables.OPERATION_ENTRY_KEY.name]
        fingerprint = json.dumps(["operations", model_id])
        start = _decode_key(cursor, fingerprint, key_names) if cursor else None
        with _translated_errors():
            results = OperationItem.query(
                model_id, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=start
            )
            entries = [_to_operation(item) for item in results]
            next_key = results.last_evaluated_key
        return Page(entries, seal(next_key, fingerprint) if next_key else None)


def _to_client(item: ClientItem) -> Client:
    return Client(
        item.model_id,
        item.name,
        item.salt,
        item.digest,
        from_iso(item.created_at),
        _optional_instant(item.last_used_at),
    )


class DynamoClientStore:
    """ClientStore on the clients table: salted digests only, never a token."""

    def add(self, client: Client) -> None:
        try:
            with _translated_errors():
                ClientItem(
                    client.model_id,
                    client.name,
                    salt=client.salt,
                    digest=client.digest,
                    created_at=to_iso(client.created_at),
                ).save(condition=ClientItem.name.does_not_exist())
        except _ConditionFailed:
            raise Conflict(
                f"the model already has a client named {client.name}; revoke it or pick another name"
            ) from None

    def get(self, model_id: str, name: str) -> Client | None:
        with _translated_errors():
            try:
                return _to_client(ClientItem.get(model_id, name, consistent_read=True))
            except DoesNotExist:
                return None

    def list(self, model_id: str) -> list[Client]:
        with _translated_errors():
            return [_to_client(item) for item in ClientItem.query(model_id, limit=1000)]

    def remove(self, model_id: str, name: str) -> bool:
        try:
            with _translated_errors():
                ClientItem(model_id, name).delete(condition=ClientItem.name.exists())
        except _ConditionFailed:
            return False
        return True

    def touch(self, model_id: str, name: str, at: datetime) -> None:
        try:
            with _translated_errors():
                ClientItem(model_id, name).update(
                    actions=[ClientItem.last_used_at.set(to_iso(at))], condition=ClientItem.name.exists()
                )
        except _ConditionFailed:
            pass  # revoked meanwhile: nothing to mark as used


_SPEC = tuple[SpecLine, ...]
_ENTRY_ID = re.compile(r"^\d{13}-[0-9a-f]{8}$")


def _to_entry(item: DeploymentItem) -> DeploymentEntry:
    return DeploymentEntry(
        model_id=item.model_id,
        entry_id=item.entry_id,
        at=from_iso(item.at),
        actor=item.actor,
        action=item.action,
        message=item.message,
        spec=from_plain(list(item.spec), _SPEC),
    )


class DynamoDeploymentHistory:
    """DeploymentHistory on the deployments table; an entry's id is its sort key (it starts with its time)."""

    def record(self, entry: DeploymentEntry) -> None:
        with _translated_errors():
            DeploymentItem(
                entry.model_id,
                entry.entry_id,
                entry_id=entry.entry_id,
                at=to_iso(entry.at),
                actor=entry.actor,
                action=entry.action,
                message=entry.message,
                spec=to_plain(entry.spec, _SPEC),
            ).save()

    def list(self, model_id: str, limit: int, cursor: str | None) -> Page[DeploymentEntry]:
        key_names = [tables.DEPLOYMENT_MODEL_ID.name, tables.DEPLOYMENT_ENTRY_KEY.name]
        fingerprint = json.dumps(["deployments", model_id])
        start = _decode_key(cursor, fingerprint, key_names) if cursor else None
        with _translated_errors():
            results = DeploymentItem.query(
                model_id, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=start
            )
            entries = [_to_entry(item) for item in results]
            next_key = results.last_evaluated_key
        return Page(entries, seal(next_key, fingerprint) if next_key else None)

    def get(self, model_id: str, entry_id: str) -> DeploymentEntry:
        if not _ENTRY_ID.match(entry_id):
            raise NotFound(f"no deployment history entry {echoed(entry_id)}")
        with _translated_errors():
            try:
                return _to_entry(DeploymentItem.get(model_id, entry_id, consistent_read=True))
            except DoesNotExist:
                raise NotFound(f"no deployment history entry {echoed(entry_id)}") from None

    def delete_all(self, model_id: str) -> None:
        with _translated_errors():
            for item in DeploymentItem.query(model_id):
                item.delete()


class DynamoModelNames:
    """ModelNames on the names table: a claim is a put that succeeds only for a free name (or the same model)."""

    def claim(self, name: str, model_id: str) -> None:
        try:
            with _translated_errors():
                NameItem(name, model_id=model_id).save(
                    condition=NameItem.name.does_not_exist() | (NameItem.model_id == model_id)
                )
        except _ConditionFailed:
            raise Conflict(f"a model named {name} exists already; choose another name") from None

    def release(self, name: str, model_id: str) -> None:
        try:
            with _translated_errors():
                NameItem(name).delete(condition=NameItem.model_id == model_id)
        except _ConditionFailed:
            pass  # another model holds it now, or nobody: nothing of ours to free

    def find(self, name: str) -> str | None:
        if len(name.encode()) > MAX_KEY_BYTES:
            return None
        with _translated_errors():
            try:
                return str(NameItem.get(name).model_id)
            except DoesNotExist:
                return None


def tally_json(tally: Tally) -> str:
    """A tally as JSON: histogram buckets as keys, an infinite difference (a change of shape) as null."""
    document = {
        **{name: getattr(tally, name) for name in ("matched", "differed", "errored", "skipped")},
        "largest": [{**dataclasses.asdict(e), "size": None if math.isinf(e.size) else e.size} for e in tally.largest],
        "candidateLatency": {str(k): v for k, v in tally.candidate_latency.items()},
        "baselineLatency": {str(k): v for k, v in tally.baseline_latency.items()},
    }
    return json.dumps(document, separators=(",", ":"))


def tally_of_json(text: str) -> Tally:
    document = json.loads(text)
    largest = tuple(
        DiffExample(**{**e, "size": math.inf if e["size"] is None else float(e["size"])}) for e in document["largest"]
    )
    return Tally(
        matched=int(document["matched"]),
        differed=int(document["differed"]),
        errored=int(document["errored"]),
        skipped=int(document["skipped"]),
        largest=largest,
        candidate_latency={int(k): int(v) for k, v in document["candidateLatency"].items()},
        baseline_latency={int(k): int(v) for k, v in document["baselineLatency"].items()},
    )


MERGE_ATTEMPTS = 8


class DynamoShadowTallies:
    """ShadowTallies on the shadows table: a merge reads the item and writes it back only if no other consumer
    wrote it meanwhile (its revision), retrying with the fresh item, so no batch's counts are lost."""

    def merge(self, model_id: str, version: int, since: datetime, batch: Tally) -> None:
        for attempt in range(MERGE_ATTEMPTS):
            with _translated_errors():
                try:
                    item: ShadowItem | None = ShadowItem.get(model_id, version, consistent_read=True)
                except DoesNotExist:
                    item = None
            condition: Condition
            if item is None:
                merged, revision, condition = batch, 1, ShadowItem.model_id.does_not_exist()
            else:
                stored_since = from_iso(item.since)
                if stored_since > since:
                    return  # the version became a shadow anew after these requests: they belong to an ended tally
                base = tally_of_json(item.tally) if stored_since == since else Tally()
                merged, revision = base.merged(batch), int(item.revision) + 1
                condition = ShadowItem.revision == int(item.revision)
            fresh = ShadowItem(model_id, version, since=to_iso(since), tally=tally_json(merged), revision=revision)
            try:
                with _translated_errors():
                    fresh.save(condition=condition)
                return
            except _ConditionFailed:
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - jitter, not a secret
        raise Conflict(f"the shadow tally of version {version} kept changing; {batch.total} comparisons were dropped")

    def get(self, model_id: str, version: int) -> ShadowTally | None:
        with _translated_errors():
            try:
                item = ShadowItem.get(model_id, version, consistent_read=True)
            except DoesNotExist:
                return None
        return ShadowTally(model_id, version, from_iso(item.since), tally_of_json(item.tally))


_REPLAY_KEYS = frozenset({"model_id", "replay_id", "candidate_version", "status", "revision", "tally"})
_REPLAY_HINTS = typing.get_type_hints(Replay)


def replay_document(replay: Replay) -> str:
    fields = [f.name for f in dataclasses.fields(Replay) if f.name not in _REPLAY_KEYS]
    document = {to_camel(name): to_plain(getattr(replay, name), _REPLAY_HINTS[name]) for name in fields}
    document["tally"] = tally_json(replay.tally)
    return json.dumps(document, separators=(",", ":"))


def _to_replay(item: ReplayItem) -> Replay:
    document = json.loads(item.document)
    fields = [f.name for f in dataclasses.fields(Replay) if f.name not in _REPLAY_KEYS]
    values = {name: from_plain(document.get(to_camel(name)), _REPLAY_HINTS[name]) for name in fields}
    return Replay(
        model_id=item.model_id,
        replay_id=item.replay_id,
        candidate_version=int(item.candidate_version),
        status=ReplayStatus(item.status),
        revision=int(item.revision),
        tally=tally_of_json(document["tally"]),
        **{name: value for name, value in values.items() if value is not None or name in _NULLABLE_REPLAY_FIELDS},
    )


_NULLABLE_REPLAY_FIELDS = frozenset({"status_reason", "finished_at", "cursor", "lease_until"})
_REPLAY_ID = re.compile(r"^\d{13}-[0-9a-f]{8}$")


def _replay_item(replay: Replay) -> ReplayItem:
    return ReplayItem(
        replay.model_id,
        replay.replay_id,
        active_key=tables.REPLAY_ACTIVE_KEY_VALUE if replay.active else None,
        candidate_version=replay.candidate_version,
        status=replay.status.value,
        revision=replay.revision,
        document=replay_document(replay),
    )


class DynamoReplayStore:
    """ReplayStore on the replays table; the reconciler finds work through the sparse byActive index."""

    def add(self, replay: Replay) -> None:
        try:
            with _translated_errors():
                _replay_item(replay).save(condition=ReplayItem.replay_id.does_not_exist())
        except _ConditionFailed:
            raise Conflict(f"a replay {replay.replay_id} exists already") from None

    def get(self, model_id: str, replay_id: str) -> Replay:
        if not _REPLAY_ID.match(replay_id):
            raise NotFound(f"no replay {echoed(replay_id)} of this model")
        with _translated_errors():
            try:
                return _to_replay(ReplayItem.get(model_id, replay_id, consistent_read=True))
            except DoesNotExist:
                raise NotFound(f"no replay {echoed(replay_id)} of this model") from None

    def replace(self, replay: Replay, expected_revision: int) -> None:
        try:
            with _translated_errors():
                _replay_item(replay).save(condition=ReplayItem.revision == expected_revision)
        except _ConditionFailed:
            raise Conflict("the replay changed meanwhile") from None

    def page(self, model_id: str, limit: int, cursor: str | None) -> Page[Replay]:
        key_names = [tables.REPLAY_MODEL_ID.name, tables.REPLAY_ID.name]
        fingerprint = json.dumps(["replays", model_id])
        start = _decode_key(cursor, fingerprint, key_names) if cursor else None
        with _translated_errors():
            results = ReplayItem.query(
                model_id, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=start
            )
            replays = [_to_replay(item) for item in results]
            next_key = results.last_evaluated_key
        return Page(replays, seal(next_key, fingerprint) if next_key else None)

    def active(self) -> list[Replay]:
        with _translated_errors():
            keys = [(i.model_id, i.replay_id) for i in ReplayItem.by_active.query(tables.REPLAY_ACTIVE_KEY_VALUE)]
        found = []
        for model_id, replay_id in keys:  # the index may lag: read each item itself
            try:
                found.append(self.get(model_id, replay_id))
            except NotFound:
                continue
        return found

    def latest_finished(self, model_id: str, version: int) -> Replay | None:
        with _translated_errors():
            for item in ReplayItem.query(
                model_id,
                scan_index_forward=False,
                filter_condition=(ReplayItem.candidate_version == version)
                & (ReplayItem.status == ReplayStatus.SUCCEEDED.value),
            ):
                return _to_replay(item)
        return None
