import { describe, expect, it } from "vitest";
import type { OperationLogEntry } from "../api/types";
import { legendTime, legendValue } from "../components/Chart";
import type { TensorMetadata } from "../api/types";
import { NEUTRAL_EXAMPLE, declaredBy, exampleFromHistory, exampleFromSignature, predictHint, startBlocker } from "./models";
import { collapseRepeats } from "./operations";
import { rangeForAge } from "./time-ranges";

describe("what the model page says", () => {
  it("blocks Start until an artifact model has its file, and says where to upload it", () => {
    expect(startBlocker({ artifactFormat: "joblib", artifact: null })).toMatch(/Model file panel/);
    expect(startBlocker({ artifactFormat: "joblib" })).not.toBeNull();
    expect(startBlocker({ artifactFormat: "joblib", artifact: { size: 1, uploadedAt: "2024-01-01T00:00:00Z", sha256: null } })).toBeNull();
    expect(startBlocker({ artifactFormat: null })).toBeNull();
  });
  it("hints what each status means for predictions", () => {
    expect(predictHint("RUNNING")).toBe("Ctrl+Enter sends.");
    expect(predictHint("PENDING")).toMatch(/starting/);
    expect(predictHint("FAILED")).toMatch(/has failed/);
    expect(predictHint("STOPPED")).toMatch(/stopped; start it/);
    expect(predictHint("STOPPING")).toMatch(/stopping/);
  });
  it("takes the example from the newest successful request whose body is whole", () => {
    const body = (modelData: unknown) => JSON.stringify({ modelData, metaData: { modelId: "m" } });
    expect(
      exampleFromHistory([
        { status: 400, requestBody: body([[1]]) },
        { status: 200, requestBody: '{"modelData": [{"carat": 0.2' },
        { status: 200, requestBody: null },
        { status: 200, requestBody: body([{ carat: 0.23, cut: "Ideal" }]) },
        { status: 200, requestBody: body([[9]]) },
      ]),
    ).toBe('[{"carat":0.23,"cut":"Ideal"}]');
    // The caller's own text: 0.0 stays a float, spacing and nesting stay as sent.
    const raw = '{ "metaData": {"modelId": "m", "tags": ["a,}"]}, "modelData" : [[0.0, 1.50e0], {"x": "]\\""}] }';
    expect(exampleFromHistory([{ status: 200, requestBody: raw }])).toBe('[[0.0, 1.50e0], {"x": "]\\""}]');
    expect(exampleFromHistory([{ status: 200, requestBody: '{"modelData": 0.0}' }])).toBe("0.0");
    expect(exampleFromHistory([{ status: 500, requestBody: body([[1]]) }])).toBeNull();
    expect(JSON.parse(NEUTRAL_EXAMPLE)).toEqual([{ feature: 1 }]);
  });
});

describe("the try-it example from what the artifact declares", () => {
  const tensor = (name: string, datatype: TensorMetadata["datatype"], shape: number[]): TensorMetadata => ({ name, datatype, shape });
  const onnx = (...inputs: TensorMetadata[]) => exampleFromSignature({ platform: "onnxruntime_onnx", inputs });
  const mlflow = (...inputs: TensorMetadata[]) => exampleFromSignature({ platform: "mlflow", inputs });

  it("makes one row of typed zeros for an ONNX graph's one input, as the runner casts rows to it", () => {
    expect(onnx(tensor("float_input", "FP32", [-1, 4]))).toBe("[[0.0, 0.0, 0.0, 0.0]]");
    expect(onnx(tensor("ids", "INT64", [-1, 3]))).toBe("[[0, 0, 0]]");
    expect(onnx(tensor("x", "FP64", [-1, 1]))).toBe("[[0.0]]");
    // A fixed batch takes exactly that many rows; more dimensions nest.
    expect(onnx(tensor("x", "INT32", [2, 2]))).toBe("[[0, 0], [0, 0]]");
    expect(onnx(tensor("x", "FP32", [-1, 2, 3]))).toBe("[[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]");
  });
  it("makes one record for MLflow column specs, each column's zero of its type", () => {
    const columns = [
      tensor("size", "FP64", [-1]),
      tensor("rooms", "INT64", [-1]),
      tensor("new", "BOOL", [-1]),
      tensor("city", "BYTES", [-1]),
    ];
    expect(mlflow(...columns)).toBe('[{"size": 0.0, "rooms": 0, "new": false, "city": ""}]');
    expect(JSON.parse(mlflow(...columns)!)).toEqual([{ size: 0, rooms: 0, new: false, city: "" }]);
    expect(mlflow(tensor('say "hi"', "BYTES", [-1]))).toBe('[{"say \\"hi\\"": ""}]');
  });
  it("makes one row for an MLflow tensor spec", () => {
    expect(mlflow(tensor("predict", "FP64", [-1, 3]))).toBe("[[0.0, 0.0, 0.0]]");
    expect(mlflow(tensor("flags", "BOOL", [-1, 2]))).toBe("[[false, false]]");
  });
  it("offers MLflow's float32 and int32 inputs JSON zeros, which the runner casts to the signature", () => {
    expect(mlflow(tensor("x", "FP32", [-1, 4]))).toBe("[[0.0, 0.0, 0.0, 0.0]]");
    expect(mlflow(tensor("size", "FP64", [-1]), tensor("count", "INT32", [-1]))).toBe('[{"size": 0.0, "count": 0}]');
  });
  it("offers nothing the runner would refuse", () => {
    expect(onnx(tensor("text", "BYTES", [-1, 1]))).toBeNull();
  });
  it("offers nothing for several tensors, as the runner's rows feed one input", () => {
    expect(onnx(tensor("a", "FP32", [-1, 2]), tensor("b", "FP32", [-1, 2]))).toBeNull();
    expect(mlflow(tensor("a", "FP64", [-1, 2]), tensor("b", "FP64", [-1, 2]))).toBeNull();
    // ONNX graphs take rows, not records, even of one value each.
    expect(onnx(tensor("a", "FP32", [-1]), tensor("b", "FP32", [-1]))).toBeNull();
  });
  it("offers nothing for unknown or absurd sizes, or no batch dimension", () => {
    expect(onnx(tensor("x", "FP32", [-1, -1]))).toBeNull();
    expect(onnx(tensor("image", "FP32", [-1, 3, -1, -1]))).toBeNull();
    expect(onnx(tensor("image", "FP32", [1, 3, 224, 224]))).toBeNull();
    expect(onnx(tensor("x", "FP32", [-1, 1000]))).toBe(`[[${Array(1000).fill("0.0").join(", ")}]]`);
    expect(onnx(tensor("x", "FP32", [-1, 1001]))).toBeNull();
    const wide = Array.from({ length: 1001 }, (_, i) => tensor(`c${i}`, "FP64", [-1]));
    expect(mlflow(...wide)).toBeNull();
    expect(mlflow(...wide.slice(1))).toMatch(/^\[\{"c1": 0\.0, .*"c1000": 0\.0\}\]$/);
    expect(onnx(tensor("x", "FP32", [4]))).toBeNull();
    expect(onnx(tensor("x", "FP32", []))).toBeNull();
  });
  it("offers nothing when the artifact declares nothing", () => {
    expect(exampleFromSignature({ platform: "joblib", inputs: [] })).toBeNull();
    expect(onnx()).toBeNull();
  });
  it("names who declared the input", () => {
    expect(declaredBy("onnxruntime_onnx")).toBe("its ONNX graph");
    expect(declaredBy("mlflow")).toBe("its MLflow signature");
  });
});

describe("operations log", () => {
  const entry = (at: string, reason: string | null = "exited with code 1"): OperationLogEntry => ({
    at,
    actor: "system",
    action: "transition",
    fromStatus: "RUNNING",
    toStatus: "PENDING",
    result: "ok",
    reason,
    count: 1,
    lastAt: null,
  });
  it("collapses runs of identical entries, keeping the newest time and when the run began", () => {
    const rows = collapseRepeats([entry("t4"), entry("t3"), entry("t2"), entry("t1", "health check failing"), entry("t0")]);
    expect(rows.map((r) => [r.entry.at, r.count, r.oldest])).toEqual([
      ["t4", 3, "t2"],
      ["t1", 1, "t1"],
      ["t0", 1, "t0"],
    ]);
    expect(collapseRepeats([])).toEqual([]);
  });
  it("adds the API's own counts: a line the API already collapsed shows its latest time", () => {
    const counted = { ...entry("t2"), count: 4, lastAt: "t5" };
    const rows = collapseRepeats([counted, entry("t1"), entry("t0", null)]);
    expect(rows.map((r) => [r.newest, r.count, r.oldest])).toEqual([
      ["t5", 5, "t1"],
      ["t0", 1, "t0"],
    ]);
  });
});

describe("metrics view", () => {
  it("picks the shortest range that holds the model's life", () => {
    const now = Date.parse("2024-03-10T12:00:00Z");
    expect(rangeForAge("2024-03-10T11:55:00Z", now).id).toBe("15m");
    expect(rangeForAge("2024-03-10T11:30:00Z", now).id).toBe("1h");
    expect(rangeForAge("2024-03-09T13:00:00Z", now).id).toBe("24h");
    expect(rangeForAge("2023-01-01T00:00:00Z", now).id).toBe("7d");
  });
  it("shows the latest value in the legend when nothing is hovered", () => {
    expect(legendValue([1, 2, null], null)).toBe(2);
    expect(legendValue([1, 2, null], 2)).toBeNull();
    expect(legendValue([1, 2, null], 0)).toBe(1);
    expect(legendValue([null, null], undefined)).toBeNull();
    expect(legendTime(null, null)).toBe("latest");
    expect(legendTime(1_700_000_000, 3)).toMatch(/\d/);
  });
});
