"""Adaptive batching: joined requests answer what each would alone, and a bad one fails alone."""

from __future__ import annotations

import asyncio
import io
import json
import math
import random
import threading
import urllib.request
from typing import Any

import joblib
import numpy as np
import orjson
import pandas as pd
import pytest
from conftest import BUCKET
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from runner.batching import Batcher
from runner.errors import InvalidInput
from runner.models import EstimatorModel, json_default

OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
CITIES = ["paris", "lyon", "nice"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "age": rng.uniform(18, 80, 300),
            "income": rng.normal(50_000, 15_000, 300),
            "city": rng.choice(CITIES, 300),
        }
    )


@pytest.fixture(scope="module")
def pipeline(frame: pd.DataFrame) -> Pipeline:
    target = ((frame["age"] > 45) ^ (frame["city"] == "nice")).astype(int)
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["age", "income"]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())]).fit(frame, target)


@pytest.fixture(scope="module")
def numeric(frame: pd.DataFrame) -> LogisticRegression:
    target = (frame["age"] > 45).astype(int)
    return LogisticRegression().fit(frame[["age", "income"]].to_numpy(), target)


def _dumps_joblib(obj: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def _record(rng: random.Random, ints: bool) -> dict[str, Any]:
    age: Any = rng.randint(18, 80) if ints else rng.uniform(18, 80)
    income = rng.choice([rng.uniform(1e4, 9e4), rng.randint(10_000, 90_000)])
    return {"age": age, "income": income, "city": rng.choice(CITIES)}


def _request(rng: random.Random, kind: str) -> tuple[list[Any], dict[str, Any]]:
    rows = rng.randint(1, 12)
    method = rng.choice(["predict", "predict_proba", "decision_function"])
    if kind == "records":
        ints = rng.random() < 0.3  # some requests have an all-int column: another dtype, so another batch
        data: list[Any] = [_record(rng, ints) for _ in range(rows)]
        if rng.random() < 0.1:
            data = [{key: row[key] for key in ("city", "age", "income")} for row in data]  # another column order
        if rng.random() < 0.08:
            data[0] = {"age": 30.0, "city": "paris"}  # a missing column: this request must fail, alone
        elif rng.random() < 0.08 and not ints:
            data[-1]["age"] = float("nan")  # same batch key as its neighbours, but the model refuses it
    else:
        data = [[rng.choice([rng.uniform(18, 80), rng.randint(18, 80)]), rng.uniform(1e4, 9e4)] for _ in range(rows)]
        if rng.random() < 0.08:
            data[0] = [1.0, 2.0, 3.0]  # a ragged row
        elif rng.random() < 0.08:
            data[-1] = [float("nan"), 1.0]  # joinable, but the model refuses it: the batch is retried one by one
    return data, {"method": method}


def _same(batched: Any, alone: Any) -> bool:
    """Equal, except that floats may differ in their last bits: BLAS takes another kernel for another number of
    rows (numpy's X @ w on 13 columns differs in the last bit between 1, 2, 3... rows and 400), so a row scored
    alone and the same row in a 5-row request already differ that much without any batching."""
    if isinstance(batched, float) and isinstance(alone, float):
        return math.isclose(batched, alone, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(batched, list) and isinstance(alone, list):
        return len(batched) == len(alone) and all(map(_same, batched, alone))
    if isinstance(batched, dict) and isinstance(alone, dict):
        return batched.keys() == alone.keys() and all(_same(batched[key], alone[key]) for key in batched)
    return type(batched) is type(alone) and batched == alone


def _answer(call: Any) -> tuple[str, bytes]:
    try:
        return "ok", orjson.dumps(call(), default=json_default, option=OPTIONS)
    except InvalidInput as exc:
        return "invalid", str(exc).encode()
    except Exception as exc:
        return "error", type(exc).__name__.encode()


async def _batched(batcher: Batcher, requests: list[tuple[list[Any], dict[str, Any]]]) -> list[tuple[str, bytes]]:
    async def one(data: list[Any], meta: dict[str, Any]) -> tuple[str, bytes]:
        try:
            result = await batcher.predict(data, meta)
        except InvalidInput as exc:
            return "invalid", str(exc).encode()
        except Exception as exc:
            return "error", type(exc).__name__.encode()
        return "ok", orjson.dumps(result, default=json_default, option=OPTIONS)

    return await asyncio.gather(*(one(data, meta) for data, meta in requests))


@pytest.mark.parametrize("kind", ["records", "rows"])
def test_batched_answers_are_identical_to_unbatched_ones(kind: str, pipeline, numeric) -> None:
    model = EstimatorModel(pipeline if kind == "records" else numeric, "joblib")
    rng = random.Random(f"batching-{kind}")
    joined = 0
    for _ in range(60):
        requests = [_request(rng, kind) for _ in range(rng.randint(2, 24))]
        alone = [_answer(lambda data=data, meta=meta: model.predict(data, meta)) for data, meta in requests]
        # Every request "on its own connection", all arriving together: the batcher joins what it can.
        batcher = Batcher(model, max_size=rng.choice([2, 5, 32]), max_wait=0.05, open_connections=lambda: 10_000)
        together = asyncio.run(_batched(batcher, requests))
        assert [kind for kind, _ in together] == [kind for kind, _ in alone]
        for (kind_of, got), (_, expected) in zip(together, alone, strict=True):
            if kind_of == "ok":
                assert _same(orjson.loads(got), orjson.loads(expected)), (got, expected)
            else:
                assert got == expected  # the same error, word for word
        joined += batcher.batched_requests
    assert joined > 100  # the comparison really covered joined calls, not only requests scored alone


def test_a_lone_request_waits_for_nothing(numeric) -> None:
    batcher = Batcher(EstimatorModel(numeric, "joblib"), 32, max_wait=5.0, open_connections=lambda: 1)

    async def one() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await batcher.predict([[30.0, 40_000.0]], {})
        return loop.time() - started

    assert asyncio.run(one()) < 1.0  # far under the 5 s it would wait if it waited for company
    assert batcher.batches == 0


def test_a_model_that_says_it_cannot_batch_is_never_batched(numeric) -> None:
    numeric.batchable = False
    try:
        batcher = Batcher(EstimatorModel(numeric, "joblib"), 32, 0.05, open_connections=lambda: 100)
        asyncio.run(_batched(batcher, [([[30.0, 40_000.0]], {}) for _ in range(8)]))
    finally:
        del numeric.batchable
    assert not batcher.enabled and batcher.batches == 0


def _post(port: int, payload: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict", json.dumps(payload).encode(), {"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_concurrent_http_requests_are_batched_and_answered_as_alone(s3, start_runner, pipeline, frame) -> None:
    s3.put_object(Bucket=BUCKET, Key="batching/pipeline.joblib", Body=_dumps_joblib(pipeline))
    runner = start_runner("batching/pipeline.joblib", "joblib", KRAKEN_WORKERS="1", KRAKEN_BATCH_MAX_WAIT_MS="20")
    runner.wait_healthy()
    samples = [frame.iloc[i : i + 1 + i % 4] for i in range(0, 96, 3)]
    payloads: list[dict[str, Any]] = [{"modelData": sample.to_dict(orient="records")} for sample in samples]
    payloads[5] = {"modelData": [{"age": 30.0}]}  # a bad request among good ones
    answers: list[tuple[int, Any]] = [(0, None)] * len(payloads)

    def ask(index: int) -> None:
        answers[index] = _post(runner.port, payloads[index])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    for index, (status, body) in enumerate(answers):
        if index == 5:
            assert status == 400 and body["error"]["code"] == "invalid_input"
        else:
            assert (status, body) == (200, {"results": pipeline.predict(samples[index]).tolist()})
    _, _, health = runner.request("GET", "/health")
    assert health["details"]["batching"]["enabled"] is True
    assert health["details"]["batching"]["batchedRequests"] >= 2
