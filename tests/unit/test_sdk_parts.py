"""The SDK's pure parts: error mapping, JWT expiry, weights, traffic splits, data conversion, the CLI's parsing."""

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
from kraken.model import from_results, parse_weights, previous_entry, split_traffic, to_model_data


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
