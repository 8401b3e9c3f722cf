"""Shadow traffic's rules and wire formats: the deployment's checks, the tally's restart, the gateway's draw,
the request line's `shadow` field and the subscription event that carries it, and the stored tally."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta

import pytest

import chalicelib.schemas.models  # noqa: F401 - first: it imports the deployment schemas at its end
from chalicelib import config
from chalicelib.adapters.dynamodb import (
    _SPEC,
    DeploymentItem,
    _to_entry,
    _to_item,
    _to_record,
    tally_json,
    tally_of_json,
    to_plain,
)
from chalicelib.adapters.prediction_log import (
    prediction_document,
    prediction_of,
    subscription_event,
    subscription_predictions,
)
from chalicelib.domain.comparison import ComparisonRule, DiffExample, Outcome, RuleKind, Tally, captured_whole
from chalicelib.domain.deployments import check_deployment, spec_lines, with_shadow_since
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.gateway import Call, Choice, PredictionGateway, Reply, Route, Target
from chalicelib.domain.models import DeployedVersion, DeploymentEntry, ModelStatus, Shadow, Visibility
from chalicelib.domain.ports import Prediction
from chalicelib.schemas.deployments import DeploymentRequest
from tests.unit.test_model_fields import a_record_unlike_the_defaults

AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
TOLERANT = ComparisonRule(RuleKind.TOLERANCE, 0.01, 0.0)


def shadowed(capture: int = 16384) -> object:
    record = a_record_unlike_the_defaults()
    versions = (record.versions[0], dataclasses.replace(record.versions[1], docker_image="repo/image:2"))
    return dataclasses.replace(record, capture_body_bytes=capture, versions=versions)


def spec(weight: int = 0, percent: int = 100, rule: ComparisonRule = TOLERANT) -> list[DeployedVersion]:
    return [DeployedVersion(1, 100, 1, 1.0, 2.0), DeployedVersion(2, weight, 1, 0.5, 1.0, shadow=Shadow(percent, rule))]


def problems(error: pytest.ExceptionInfo[InvalidRequest]) -> dict[str, str]:
    return {p.field: p.message for p in error.value.details}


def test_a_shadow_serves_no_share_takes_1_to_100_percent_and_needs_captured_bodies() -> None:
    check_deployment(shadowed(), spec())  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest) as weighted:
        check_deployment(shadowed(), [DeployedVersion(1, 90, 1, 1.0, 2.0), spec(10)[1]])  # type: ignore[arg-type]
    assert "versions[1].weight" in problems(weighted)
    with pytest.raises(InvalidRequest) as too_many:
        check_deployment(shadowed(), spec(percent=101))  # type: ignore[arg-type]
    assert "versions[1].shadow.percent" in problems(too_many)
    with pytest.raises(InvalidRequest) as uncaptured:
        check_deployment(shadowed(capture=0), spec())  # type: ignore[arg-type]
    assert "captureBodyBytes" in problems(uncaptured)["versions[1].shadow"]


def test_the_request_schema_takes_a_shadow_and_refuses_a_tolerance_of_nothing() -> None:
    body = {"versions": [{"version": 1, "weight": 100}, {"version": 2, "weight": 0, "shadow": {"percent": 25}}]}
    parsed = DeploymentRequest.model_validate(body)
    deployed = parsed.versions[1].deployed(shadowed())  # type: ignore[arg-type]
    assert deployed.shadow == Shadow(25, ComparisonRule())
    body["versions"][1]["shadow"] = {"percent": 25, "rule": {"kind": "tolerance"}}  # type: ignore[index]
    with pytest.raises(ValueError, match="tolerance"):
        DeploymentRequest.model_validate(body)
    body["versions"][1]["shadow"] = {"percent": 0}  # type: ignore[index]
    with pytest.raises(ValueError, match="percent"):
        DeploymentRequest.model_validate(body)


def test_a_tally_restarts_only_when_a_version_becomes_a_shadow_anew_or_changes_its_rule() -> None:
    record = shadowed()
    first = with_shadow_since(record, spec(), AT)  # type: ignore[arg-type]
    assert first[1].shadow is not None and first[1].shadow.since == AT and first[0].shadow is None
    record = dataclasses.replace(record, deployment=first)  # type: ignore[type-var]
    later = AT + timedelta(hours=1)
    same = with_shadow_since(record, spec(percent=50), later)
    assert same[1].shadow is not None and same[1].shadow.since == AT  # a new percent keeps counting
    other_rule = with_shadow_since(record, spec(rule=ComparisonRule()), later)
    assert other_rule[1].shadow is not None and other_rule[1].shadow.since == later
    gone = dataclasses.replace(record, deployment=(spec()[0],))
    again = with_shadow_since(gone, spec(), later)
    assert again[1].shadow is not None and again[1].shadow.since == later


def test_the_shadow_is_stored_and_kept_in_the_history_so_a_rollback_restores_it() -> None:
    record = dataclasses.replace(shadowed(), deployment=with_shadow_since(shadowed(), spec(), AT))  # type: ignore[arg-type, type-var]
    assert _to_record(_to_item(record)) == record
    lines = spec_lines(record, record.deployment)
    item = DeploymentItem("m-1", "k", entry_id="k", at="2026-12-01T08:30:00Z", actor="a", action="deploy",
                          message="", spec=to_plain(lines, _SPEC))  # fmt: skip
    entry = _to_entry(item)
    assert isinstance(entry, DeploymentEntry)
    assert [line.deployed() for line in entry.spec] == list(record.deployment)


class Answers:
    """A transport whose answer names the endpoint that gave it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(
        self, method: str, endpoint: str, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> Reply:
        self.sent.append(endpoint)
        return Reply(200, json.dumps({"from": endpoint}).encode())


class Kept:
    def __init__(self) -> None:
        self.lines: list[Prediction] = []

    def record(self, prediction: Prediction) -> None:
        self.lines.append(prediction)


def route_with_shadow(percent: int) -> Route:
    shadow = Shadow(percent, ComparisonRule(), AT)
    targets = (Target(1, 100, ("serving:1",), "/predict"), Target(2, 0, ("shadow:2",), "/predict", shadow))
    return Route("m-1", "diamonds", ModelStatus.RUNNING, None, Visibility.PRIVATE, targets, 5.0, 1024)


@pytest.mark.parametrize("percent", [100, 25, 1])
def test_the_gateway_draws_a_shadow_at_its_percent_evenly_and_never_calls_it(percent: int) -> None:
    transport, log = Answers(), Kept()
    gateway = PredictionGateway(None, None, transport, log)  # type: ignore[arg-type]
    route = route_with_shadow(percent)
    for number in range(400):
        answer = gateway.predict(route, b'{"modelData": [1]}', f"r-{number}", "ann")
        assert json.loads(answer.body) == {"from": "serving:1"}
    assert set(transport.sent) == {"serving:1"}  # the shadow's turn comes later, from the consumer
    drawn = [line for line in log.lines if line.shadow_versions == (2,)]
    assert abs(len(drawn) - 4 * percent) <= 1
    # Evenly spread: any 100 successive requests hold the percent, give or take one.
    flags = [bool(line.shadow_versions) for line in log.lines]
    assert all(abs(sum(flags[i : i + 100]) - percent) <= 1 for i in range(0, 300, 37))


def test_a_request_answered_by_the_shadow_itself_or_on_another_protocol_draws_none() -> None:
    log = Kept()
    gateway = PredictionGateway(None, None, Answers(), log)  # type: ignore[arg-type]
    route = route_with_shadow(100)
    gateway.predict(route, b"{}", "r-1", "ann", Choice(version=2))
    gateway.predict(route, b"{}", "r-2", "ann", call=Call(path="/v2/models/{name}/infer"))
    assert [line.shadow_versions for line in log.lines] == [(), ()]


def prediction(**changes: object) -> Prediction:
    base = Prediction("r-1", AT, "m-1", "1", 200, 3.5, 2.0, 18, 14, '{"modelData": [1]}', '{"price": 1.5}', "ann")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_line_carries_the_shadow_only_when_drawn_and_the_subscription_event_carries_the_line() -> None:
    plain = prediction_document(prediction(), "Kraken")
    assert "shadow" not in plain
    drawn = prediction(shadow_versions=(2, 3))
    document = prediction_document(drawn, "Kraken")
    assert document["shadow"] == [2, 3] and prediction_of(json.loads(json.dumps(document))) == drawn
    lines = [json.dumps(document), json.dumps({"level": "INFO", "message": "not a prediction"})]
    event = subscription_event("/aws/lambda/kraken-dev-api-handler", "2026/12/01/[$LATEST]abc", lines, "f")
    assert set(event) == {"awslogs"} and isinstance(event["awslogs"]["data"], str)
    assert subscription_predictions(event) == [drawn]
    assert subscription_predictions({"awslogs": {"data": "not base64 gzip"}}) == []
    # The deployed filter matches a prediction line whose shadow list holds a version number.
    assert "$.shadow[0]" in config.SHADOW_FILTER_PATTERN and '$.type = "prediction"' in config.SHADOW_FILTER_PATTERN


def test_a_body_cut_at_capture_bytes_is_not_compared() -> None:
    assert captured_whole(prediction())
    assert not captured_whole(prediction(request_bytes=50000))
    assert not captured_whole(prediction(response_bytes=99))
    assert not captured_whole(prediction(request_body=None))


def test_the_stored_tally_keeps_every_count_histogram_and_infinite_difference() -> None:
    example = DiffExample("r-1", "{}", 200, '{"a": 1}', 502, "bad gateway", "$", math.inf)
    tally = Tally().count(Outcome.MATCHED, None, 4.0, 3.0).count(Outcome.ERRORED, example).count(Outcome.SKIPPED)
    back = tally_of_json(tally_json(tally))
    assert back == tally and math.isinf(back.largest[0].size)
    assert json.loads(tally_json(tally))["largest"][0]["size"] is None
