"""The SDK's pure parts: error mapping, JWT expiry, weights, traffic splits, data conversion, the CLI's parsing,
and the request bodies and frames of replays, shadows and rollouts."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kraken import auth, cli, errors
from kraken.client import artifact_format
from kraken.display import html_table, text_table
from kraken.model import from_results, parse_weights, previous_entry, split_traffic, to_model_data, weighted_lines
from kraken.rollouts import (
    comparison_rule,
    decisions_frame,
    differences_frame,
    parse_steps,
    replay_body,
    replay_row,
    replay_wait_seconds,
    rollout_body,
    rollout_row,
    rollout_wait_seconds,
    shadow_lines,
)


def api_error(status: int, code: str, message: str, **extra: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, **extra}}).encode()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.BadRequest),
        (401, errors.Unauthorized),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (413, errors.BadRequest),
        (422, errors.ValidationError),
        (429, errors.Throttled),
        (500, errors.ServerError),
        (502, errors.Unavailable),
        (503, errors.Unavailable),
        (504, errors.Unavailable),
        (418, errors.KrakenError),
    ],
)
def test_each_status_has_its_exception(status: int, kind: type[errors.KrakenError]) -> None:
    error = errors.error_from_response(status, api_error(status, "x", "y"), {})
    assert type(error) is kind
    assert error.status == status


def test_the_api_error_shape_gives_code_message_details_and_request_id() -> None:
    body = api_error(422, "validation_error", "the request is not valid", details=[{"field": "name", "message": "bad"}])
    error = errors.error_from_response(422, body, {"X-Request-Id": "rid-1"})
    assert (error.code, error.message, error.request_id) == ("validation_error", "the request is not valid", "rid-1")
    assert error.details == [{"field": "name", "message": "bad"}]
    assert str(error) == "422 validation_error: the request is not valid (name: bad) [request id rid-1]"


def test_a_500_names_the_request_id_from_its_body() -> None:
    error = errors.error_from_response(500, api_error(500, "internal", "oops", requestId="in-body"), {})
    assert isinstance(error, errors.ServerError)
    assert error.request_id == "in-body"


def test_retry_after_is_read_and_a_foreign_body_is_shortened() -> None:
    error = errors.error_from_response(429, b"<html>" + b"x" * 1000 + b"</html>", {"Retry-After": "5"})
    assert isinstance(error, errors.Throttled)
    assert error.retry_after == 5.0
    assert error.code is None
    assert len(error.message) < 230


def jwt(claims: dict[str, object]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.signature"


def test_jwt_expiry_is_read_without_verifying() -> None:
    assert auth.jwt_expiry(jwt({"exp": 1796283717, "username": "admin"})) == 1796283717.0
    assert auth.jwt_expiry(jwt({"username": "admin"})) is None
    assert auth.jwt_expiry(jwt({"exp": True})) is None
    assert auth.jwt_expiry("not-a-jwt") is None
    assert auth.jwt_expiry("a.!!!.c") is None


def test_a_session_expires_early_by_the_margin_and_never_shows_its_tokens() -> None:
    now = time.time()
    session = auth.Session("http://k", "admin", "ACCESS-SECRET", "REFRESH-SECRET", now + 3600)
    assert not session.expiring(now)
    assert session.expiring(now + 3600 - auth.REFRESH_MARGIN_SECONDS)
    assert "SECRET" not in repr(session)


def test_the_stored_session_is_0600_and_found_by_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    session = auth.Session("http://k", "admin", "a", "r", 1.0)
    path = auth.save_session(session)
    assert path == tmp_path / "kraken" / "session.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert auth.load_session("http://k") == session
    assert auth.load_session("http://other") is None
    assert auth.forget_session()
    assert auth.load_session() is None


def test_stage_settings_default_to_the_regions_cognito_and_name_the_api() -> None:
    settings = auth.StageSettings.of({"region": "eu-west-1", "auth": {"clientId": "c"}})
    assert settings.endpoint == "https://cognito-idp.eu-west-1.amazonaws.com/"
    local = auth.StageSettings.of({"auth": {"clientId": "c", "cognitoEndpoint": "http://127.0.0.1:5000"}})
    assert local.endpoint == "http://127.0.0.1:5000/"
    assert local.api_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/api"
    elsewhere = auth.StageSettings.of({"apiBase": "https://api.example.com/v1/", "auth": {"clientId": "c"}})
    assert elsewhere.api_url("https://console.example.com") == "https://api.example.com/v1"
    with pytest.raises(errors.KrakenError):
        auth.StageSettings.of({"auth": {"clientId": "c", "cognitoEndpoint": "file:///etc/passwd"}})
    with pytest.raises(errors.KrakenError):
        auth.StageSettings.of({"auth": {}})


def test_weights_parse_from_pairs_or_a_mapping() -> None:
    assert parse_weights(["2=90", "3=10"]) == {2: 90, 3: 10}
    assert parse_weights({"2": 90, 3: 10}) == {2: 90, 3: 10}
    for bad in (["2:90"], ["x=1"], ["0=100"], ["2=101"], ["2=50", "2=50"], []):
        with pytest.raises(ValueError):
            parse_weights(bad)


def test_a_canary_takes_its_share_and_the_rest_keeps_its_proportions() -> None:
    assert split_traffic({1: 100}, 2, 10) == {1: 90, 2: 10}
    assert split_traffic({1: 100}, 2, 100) == {2: 100}
    assert split_traffic({1: 100, 2: 0}, 3, 0) == {1: 100, 3: 0}
    assert split_traffic({}, 1, 10) == {1: 100}  # nothing serves yet: the new version takes it all
    three = split_traffic({1: 50, 2: 50}, 3, 33)
    assert three == {1: 34, 2: 33, 3: 33}
    assert sum(three.values()) == 100
    with pytest.raises(ValueError):
        split_traffic({1: 100}, 2, 101)


def test_rollback_by_default_restores_the_last_different_entry() -> None:
    spec = [{"version": 2, "weight": 100, "replicas": 1}]
    entries = [
        {"entryId": "c", "spec": spec},
        {"entryId": "b", "spec": spec},  # a start of the same deployment
        {"entryId": "a", "spec": [{"version": 1, "weight": 100, "replicas": 1}]},
    ]
    assert previous_entry(entries) == entries[2]
    assert previous_entry(entries[:2]) is None
    assert previous_entry([]) is None


def test_a_dataframe_goes_as_records_and_comes_back_indexed_like_it() -> None:
    frame = pd.DataFrame({"carat": [0.2, np.nan], "n": np.array([1, 2], dtype=np.int64)}, index=[10, 11])
    assert to_model_data(frame) == [{"carat": 0.2, "n": 1}, {"carat": None, "n": 2}]
    answer = from_results({"results": [1.5, 2.5]}, frame)
    assert isinstance(answer, pd.Series)
    assert list(answer.index) == [10, 11]
    probabilities = from_results({"results": [[0.1, 0.9], [0.8, 0.2]]}, frame)
    assert isinstance(probabilities, pd.DataFrame)
    assert probabilities.shape == (2, 2)
    assert list(probabilities.index) == [10, 11]
    assert to_model_data(np.array([[1, 2]])) == [[1, 2]]
    assert from_results({"results": [[0.1, 0.9]]}, [[1, 2]]).shape == (1, 2)
    assert from_results({"custom": 1}, [[1]]) == {"custom": 1}  # a custom container's answer, unchanged


def test_tables_escape_everything() -> None:
    table = html_table([{"name": "<script>alert(1)</script>"}], ["name"], title="a & b")
    assert "<script>" not in table
    assert "&lt;script&gt;" in table
    assert "a &amp; b" in table
    assert text_table([{"a": "x", "b": None}], ["a", "b"]) == "A  B\nx"


def test_the_format_comes_from_the_suffix_unless_given() -> None:
    assert artifact_format(Path("m.joblib"), None) == "joblib"
    assert artifact_format(Path("m.PKL"), None) == "pickle"
    assert artifact_format(Path("m.zip"), "bundle") == "bundle"
    with pytest.raises(ValueError):
        artifact_format(Path("m.zip"), None)


def test_json_works_before_or_after_the_command() -> None:
    parser = cli.build_parser()
    before = parser.parse_args(["--json", "traffic", "x", "2=90", "3=10", "--message", "canary"])
    after = parser.parse_args(["traffic", "x", "2=90", "3=10", "--json"])
    assert before.json and after.json
    assert before.weights == ["2=90", "3=10"]
    assert before.message == "canary"
    assert not getattr(parser.parse_args(["models", "list"]), "json", False)


def test_a_usage_error_exits_1_because_2_means_not_signed_in(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["traffic"])
    assert exited.value.code == cli.EXIT_USAGE
    assert "usage" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotSignedIn("x"), cli.EXIT_NOT_SIGNED_IN),
        (errors.Unauthorized("x"), cli.EXIT_NOT_SIGNED_IN),
        (errors.NotFound("x"), cli.EXIT_NOT_FOUND),
        (errors.Conflict("x"), cli.EXIT_CONFLICT),
        (errors.ServerError("x"), cli.EXIT_UNAVAILABLE),
        (errors.Unavailable("x"), cli.EXIT_UNAVAILABLE),
        (errors.Throttled("x"), cli.EXIT_UNAVAILABLE),
        (errors.Timeout("x"), cli.EXIT_TIMEOUT),
        (errors.ModelFailed("x"), cli.EXIT_MODEL_FAILED),
        (errors.ReplayFailed("x"), cli.EXIT_MODEL_FAILED),
        (errors.ValidationError("x"), cli.EXIT_USAGE),
        (errors.Forbidden("x"), cli.EXIT_USAGE),
    ],
)
def test_each_error_has_its_documented_exit_code(error: errors.KrakenError, code: int) -> None:
    assert cli.exit_code(error) == code
    assert f"  {code}  " in cli.EXIT_CODES_HELP


def test_prediction_input_comes_from_the_argument_a_file_or_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.read_input('[{"carat": 0.3}]') == [{"carat": 0.3}]
    (tmp_path / "rows.json").write_text("[[1, 2]]")
    assert cli.read_input(f"@{tmp_path / 'rows.json'}") == [[1, 2]]
    monkeypatch.setattr("sys.stdin", io.StringIO('{"modelData": [[1]]}'))
    assert cli.read_input("-") == {"modelData": [[1]]}
    with pytest.raises(errors.BadRequest):
        cli.read_input("not json")


def test_a_replay_body_defaults_as_the_api_does_and_takes_a_tolerance() -> None:
    assert replay_body(3) == {
        "candidateVersion": 3,
        "source": {"status": "2xx", "limit": 500},
        "rule": {"kind": "exact"},
        "ratePerSecond": 20,
    }
    body = replay_body(
        2,
        start="2026-12-01T00:00:00Z",
        end="2026-12-02T00:00:00Z",
        status=None,
        limit=50,
        rule=comparison_rule(absolute=0.01),
        rate=100,
    )
    assert body["source"] == {
        "status": None,
        "limit": 50,
        "start": "2026-12-01T00:00:00Z",
        "end": "2026-12-02T00:00:00Z",
    }
    assert body["rule"] == {"kind": "tolerance", "absolute": 0.01, "relative": 0.0}
    assert comparison_rule(relative=0.1) == {"kind": "tolerance", "absolute": 0.0, "relative": 0.1}
    assert comparison_rule("exact") == comparison_rule() == {"kind": "exact"}
    assert comparison_rule({"kind": "tolerance", "absolute": 1}) == {"kind": "tolerance", "absolute": 1}
    with pytest.raises(ValueError):
        comparison_rule("exact", absolute=1)
    with pytest.raises(ValueError):
        comparison_rule("close enough")


DEPLOYMENT = [
    {
        "version": 1,
        "weight": 100,
        "replicas": 2,
        "containerCpu": 0.5,
        "containerMemory": 1.0,
        "status": "RUNNING",
        "servingWeight": 100,
        "leaving": False,
        "autoscaling": {"minReplicas": 1, "maxReplicas": 4, "targetCpuPercent": 60.0, "targetRequestsPerReplica": None},
        "spot": True,
        "shadow": None,
    },
    {
        "version": 2,
        "weight": 0,
        "replicas": 1,
        "containerCpu": 0.25,
        "containerMemory": 0.5,
        "leaving": False,
        "spot": False,
        "shadow": {"percent": 10, "rule": {"kind": "exact", "absolute": 0, "relative": 0}, "since": "2026-12-01T0Z"},
    },
    {"version": 4, "weight": 0, "replicas": 1, "leaving": True, "shadow": None},
]


def test_a_shadow_keeps_every_other_line_and_its_settings() -> None:
    lines = shadow_lines(DEPLOYMENT, 3, 20, comparison_rule(absolute=0.5))
    assert lines == [
        {
            "version": 1,
            "weight": 100,
            "replicas": 2,
            "containerCpu": 0.5,
            "containerMemory": 1.0,
            "autoscaling": DEPLOYMENT[0]["autoscaling"],
            "spot": True,
        },
        {
            "version": 2,
            "weight": 0,
            "replicas": 1,
            "containerCpu": 0.25,
            "containerMemory": 0.5,
            "spot": False,
            "shadow": {"percent": 10, "rule": {"kind": "exact", "absolute": 0, "relative": 0}},  # no "since"
        },
        {
            "version": 3,
            "weight": 0,
            "replicas": 1,
            "shadow": {"percent": 20, "rule": {"kind": "tolerance", "absolute": 0.5, "relative": 0.0}},
        },
    ]  # the leaving version 4 is not part of the deployment
    changed = shadow_lines(DEPLOYMENT, 2, 50)
    assert changed[1]["shadow"] == {"percent": 50, "rule": {"kind": "exact"}} and len(changed) == 2
    ended = shadow_lines(DEPLOYMENT, 2, 0)
    assert ended[1] == {
        "version": 2,
        "weight": 0,
        "replicas": 1,
        "containerCpu": 0.25,
        "containerMemory": 0.5,
        "spot": False,
    }
    for version, percent in ((1, 10), (3, 0), (2, 101)):  # serving, not a shadow, out of range
        with pytest.raises(ValueError):
            shadow_lines(DEPLOYMENT, version, percent)


def test_a_weights_change_keeps_each_deployed_versions_settings() -> None:
    lines = weighted_lines(DEPLOYMENT, {1: 90, 3: 10})
    assert lines == [
        {
            "version": 1,
            "weight": 90,
            "replicas": 2,
            "containerCpu": 0.5,
            "containerMemory": 1.0,
            "autoscaling": DEPLOYMENT[0]["autoscaling"],
            "spot": True,
        },
        {"version": 3, "weight": 10, "replicas": 1},  # new: the model's size, one replica
    ]  # version 2 (the shadow) is left out, as the weights say; the leaving version 4 is not deployed
    kept_shadow, promoted = weighted_lines(DEPLOYMENT, {1: 100, 2: 0}), weighted_lines(DEPLOYMENT, {2: 100}, {2: 3})
    assert kept_shadow[1]["shadow"] == {"percent": 10, "rule": {"kind": "exact", "absolute": 0, "relative": 0}}
    assert promoted == [
        {"version": 2, "weight": 100, "replicas": 3, "containerCpu": 0.25, "containerMemory": 0.5, "spot": False}
    ]  # traffic ends the shadow; the count given replaces the line's


def test_a_rollout_body_names_the_guardrails_as_the_api_does() -> None:
    body = rollout_body(2, (10, 100), 60, "canary", {"max_5xx_rate": 0.02, "min_match_rate": 0.99, "min_requests": 5})
    assert body == {
        "candidateVersion": 2,
        "steps": [10, 100],
        "bakeSeconds": 60,
        "guardrails": {"max5xxRate": 0.02, "minMatchRate": 0.99, "minRequests": 5},
        "message": "canary",
    }
    assert rollout_body(2)["steps"] == [5, 25, 50, 100] and rollout_body(2)["guardrails"] == {}
    with pytest.raises(TypeError):
        rollout_body(2, guardrails={"max_errors": 1})
    assert parse_steps("5,25, 50,100") == [5, 25, 50, 100]
    for bad in ("", "5;25", "five"):
        with pytest.raises(ValueError):
            parse_steps(bad)


def test_waits_last_as_long_as_the_work_with_room() -> None:
    assert replay_wait_seconds(100, 20) == 300  # at least five minutes
    assert replay_wait_seconds(5000, 20) == 5000 / 20 * 1.5 + 120
    assert rollout_wait_seconds({"steps": [5, 25, 50, 100], "step": 2, "bakeSeconds": 60}) == 2 * 180 + 300


def test_differences_and_decisions_are_frames() -> None:
    largest = [
        {
            "requestId": "r1",
            "requestBody": '[{"x": 10}]',
            "baselineStatus": 200,
            "baselineBody": '{"results": [20]}',
            "candidateStatus": 200,
            "candidateBody": '{"results": [21]}',
            "where": "$.results[0]",
            "size": 1.0,
        }
    ]
    frame = differences_frame(largest)
    assert list(frame.columns[:3]) == ["requestId", "where", "size"]
    assert frame.loc[0, "baselineBody"] != frame.loc[0, "candidateBody"]
    assert differences_frame([]).empty
    decisions = [
        {
            "at": "2026-12-01T00:00:00Z",
            "step": 0,
            "weight": 5,
            "verdict": "advance",
            "actor": "admin",
            "reason": "x",
            "numbers": None,
        },
        {
            "at": "2026-12-01T00:05:00Z",
            "step": 0,
            "weight": 5,
            "verdict": "rollback",
            "actor": "system:rollout",
            "reason": "5xx rate",
            "numbers": {"candidate5xxRate": 0.2, "baseline5xxRate": 0.0, "p99Ratio": 1.1},
        },
    ]
    table = decisions_frame(decisions)
    assert list(table["verdict"]) == ["advance", "rollback"]
    assert table.loc[1, "candidate5xxRate"] == 0.2 and pd.isna(table.loc[0, "candidate5xxRate"])
    assert str(table["at"].dtype).startswith("datetime64")
    record = {"steps": [5, 25, 50, 100], "step": 1, "status": "PAUSED"}
    assert rollout_row(record)["step"] == "2/4 (25%)"
    replay = {"progress": {"done": 3, "total": 20}, "counts": {"matched": 2, "differed": 1, "errored": 0, "skipped": 0}}
    row = replay_row(replay)
    assert (row["progress"], row["matched"], row["differed"]) == ("3/20", 2, 1)


def test_the_cli_parses_replays_shadows_and_rollouts() -> None:
    parser = cli.build_parser()
    started = parser.parse_args(
        ["replay", "x", "2", "--limit", "50", "--status", "all", "--tolerance", "0.01", "--wait"]
    )
    assert (started.version, started.limit, started.status, started.tolerance, started.wait) == (
        2,
        50,
        "all",
        0.01,
        True,
    )
    assert started.run is cli.replay and started.timeout is None
    assert parser.parse_args(["replays", "x", "--json"]).json
    plan = parser.parse_args(["rollout", "x", "3", "--steps", "10,100", "--bake", "60", "--max-5xx-rate", "0.02"])
    assert (plan.version, plan.steps, plan.bake, plan.max_5xx_rate, plan.act) == (3, "10,100", 60, 0.02, None)
    assert plan.min_requests is None
    acted = parser.parse_args(["rollout", "x", "--pause", "--json"])
    assert (acted.version, acted.act, acted.json) == (None, "pause", True)
    with pytest.raises(SystemExit):
        parser.parse_args(["rollout", "x", "--pause", "--abort"])
    shadowed = parser.parse_args(["shadow", "x", "3", "20", "--relative", "0.1"])
    assert (shadowed.version, shadowed.percent, shadowed.relative) == (3, 20, 0.1)
    assert parser.parse_args(["shadow", "x"]).version is None
    assert "  8  " in cli.EXIT_CODES_HELP


def test_a_rollout_with_a_version_and_an_action_is_a_usage_error() -> None:
    class NoServer:
        def model(self, name: str) -> object:
            return object()

    args = cli.build_parser().parse_args(["rollout", "x", "3", "--abort"])
    args.json = False
    with pytest.raises(ValueError, match="--abort acts on the current rollout"):
        cli.rollout(NoServer(), args)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", [[], ["replay"], ["replays"], ["shadow"], ["rollout"]])
def test_every_help_renders(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: kraken" in capsys.readouterr().out
