"""The runner's artifact URI: the bucket and key, and the exact upload to read when the platform names one."""

from __future__ import annotations

import pytest

from runner.config import ConfigError, load_settings


def settings(uri: str):  # type: ignore[no-untyped-def]
    return load_settings({"KRAKEN_ARTIFACT_URI": uri, "KRAKEN_ARTIFACT_FORMAT": "joblib"})


def test_a_recorded_upload_is_read_by_its_version() -> None:
    exact = settings("s3://bucket/models/m1/versions/1/artifact?versionId=3%2Fxyz.Abc")
    assert exact.bucket_and_key == ("bucket", "models/m1/versions/1/artifact")
    assert exact.object_version == "3/xyz.Abc"
    latest = settings("s3://bucket/models/m1/versions/1/artifact")
    assert latest.bucket_and_key == ("bucket", "models/m1/versions/1/artifact") and latest.object_version is None


def test_a_uri_without_a_key_is_refused_even_with_a_version() -> None:
    with pytest.raises(ConfigError, match="s3://bucket/key"):
        settings("s3://bucket?versionId=1")
