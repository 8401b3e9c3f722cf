import { describe, expect, it } from "vitest";
import type { Metrics, Model } from "../api/types";
import { availabilityPercent, latest, memoryNearLimit, requestsPerSecond, successPercent, summarize } from "./metrics";
import { canDelete, canStart, canStop, needsPolling, sortModels } from "./models";
import { href, parseRoute } from "./routes";
import { TIME_RANGES, findRange, rangeBounds } from "./time-ranges";
import { curlAuthFor, curlCommand, predictUrl, protocolUrls, pythonSnippet } from "../pages/detail/RunExample";
import { stageCostText } from "../pages/ModelsList";
import { ApiError } from "../api/client";
import { errorText } from "../components/States";

describe("error text", () => {
  it("says plainly when the role is too low or the session is gone", () => {
    expect(errorText(new ApiError(403, "forbidden", "Editors only."))).toBe("Not allowed for your role: Editors only.");
    expect(errorText(new ApiError(401, "unauthorized", "Token expired."))).toBe("Not signed in: Token expired.");
    expect(errorText(new ApiError(409, "conflict", "Changed."))).toBe("Changed.");
  });
});

describe("routes", () => {
  it("parses every screen", () => {
    expect(parseRoute("")).toEqual({ page: "list" });
    expect(parseRoute("#/models")).toEqual({ page: "list" });
    expect(parseRoute("#/models/new")).toEqual({ page: "create" });
    expect(parseRoute("#/models/abc")).toEqual({ page: "detail", id: "abc", tab: "operations" });
    expect(parseRoute("#/models/abc/metrics")).toEqual({ page: "detail", id: "abc", tab: "metrics" });
    expect(parseRoute("#/models/abc/edit")).toEqual({ page: "edit", id: "abc" });
    expect(parseRoute("#/models/abc/clients")).toEqual({ page: "detail", id: "abc", tab: "clients" });
    expect(parseRoute("#/models/abc/nope")).toEqual({ page: "not-found", path: "/models/abc/nope" });
    expect(parseRoute("#/elsewhere")).toEqual({ page: "not-found", path: "/elsewhere" });
    expect(parseRoute("#/projects")).toEqual({ page: "projects" });
    expect(parseRoute("#/projects/pricing")).toEqual({ page: "project", name: "pricing" });
    expect(parseRoute("#/projects/pricing/more")).toEqual({ page: "not-found", path: "/projects/pricing/more" });
  });
  it("round-trips through href", () => {
    for (const route of [
      { page: "list" },
      { page: "create" },
      { page: "edit", id: "a b" },
      { page: "detail", id: "x", tab: "requests" },
      { page: "projects" },
      { page: "project", name: "fraud-2" },
    ] as const) {
      expect(parseRoute(href(route))).toEqual(route);
    }
  });
});

describe("polling and actions", () => {
  it("polls only while a model is changing", () => {
    expect(needsPolling([])).toBe(false);
    expect(needsPolling([{ status: "RUNNING" }, { status: "STOPPED" }, { status: "FAILED" }])).toBe(false);
    expect(needsPolling([{ status: "RUNNING" }, { status: "PENDING" }])).toBe(true);
    expect(needsPolling([{ status: "STOPPING" }])).toBe(true);
  });
  it("offers start, stop and delete by status", () => {
    expect(canStart({ status: "STOPPED" })).toBe(true);
    expect(canStart({ status: "FAILED" })).toBe(true);
    expect(canStart({ status: "RUNNING" })).toBe(false);
    expect(canStop({ status: "RUNNING" })).toBe(true);
    expect(canStop({ status: "STOPPED" })).toBe(false);
    expect(canDelete({ status: "RUNNING" })).toBe(false);
  });
  it("sorts a page client-side", () => {
    const m = (name: string, status: Model["status"], createdAt: string) => ({ name, status, createdAt }) as Model;
    const list = [m("b", "STOPPED", "2024-01-02"), m("a10", "RUNNING", "2024-01-01"), m("a9", "FAILED", "2024-01-03")];
    expect(sortModels(list, "name", "asc").map((x) => x.name)).toEqual(["a9", "a10", "b"]);
    expect(sortModels(list, "createdAt", "desc").map((x) => x.name)).toEqual(["a9", "b", "a10"]);
    expect(sortModels(list, "status", "asc").map((x) => x.status)).toEqual(["RUNNING", "FAILED", "STOPPED"]);
  });
});

describe("time ranges", () => {
  it("ends now and spans the range", () => {
    const now = Date.parse("2024-03-10T15:04:05.678Z");
    expect(rangeBounds(findRange("15m"), now)).toEqual({ from: "2024-03-10T14:49:05.000Z", to: "2024-03-10T15:04:05.000Z" });
    expect(findRange("7d").period).toBe(3600);
    expect(findRange("bogus")).toBe(TIME_RANGES[1]);
  });
});

describe("metrics", () => {
  const metrics: Metrics = {
    period: 60,
    timestamps: ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"],
    series: {
      requests: [60, null, 120],
      latencyAvg: [10, null, 40],
      latencyP99: [50, null, 90],
      successRate: [1, null, 0.5],
      errors4xx: [0, null, 60],
      errors5xx: [0, null, 0],
    },
  };
  it("flags memory only when the fullest replica's latest share nears the limit", () => {
    const at = (peaks: (number | null)[]): Metrics => ({ ...metrics, series: { memoryPeakPercent: peaks } });
    expect(memoryNearLimit(at([95, 40, null]))).toBeNull(); // it was near, it is no longer
    expect(memoryNearLimit(at([40, 93.75, null]))).toBe(93.75);
    expect(memoryNearLimit(at([null, null, 89.9]))).toBeNull();
    expect(memoryNearLimit(at([null, null, null]))).toBeNull();
    expect(latest([1, 2, null])).toBe(2);
  });
  it("computes requests per second", () => {
    expect(requestsPerSecond(metrics)).toEqual([1, null, 2]);
  });
  it("reads availability (the API's successRate, no 5xx) as percent whether the API sends fractions or percent", () => {
    expect(availabilityPercent(metrics)).toEqual([100, null, 50]);
    expect(availabilityPercent({ ...metrics, series: { successRate: [100, 50, null] } })).toEqual([100, 50, null]);
  });
  it("computes success as the share of 2xx, apart from availability", () => {
    expect(successPercent(metrics)).toEqual([100, null, 50]);
    const tenPercent4xx: Metrics = {
      period: 60,
      timestamps: ["2024-01-01T00:00:00Z"],
      series: { requests: [10], errors4xx: [1], errors5xx: [0], successRate: [1] },
    };
    expect(successPercent(tenPercent4xx)).toEqual([90]);
    expect(availabilityPercent(tenPercent4xx)).toEqual([100]);
  });
  it("summarizes weighted by requests", () => {
    expect(summarize(metrics)).toEqual({
      requests: 180,
      errors4xx: 60,
      errors5xx: 0,
      availability: (100 * 60 + 50 * 120) / 180,
      success: (100 * 120) / 180,
      latencyAvg: 30,
      latencyP99Max: 90,
    });
    expect(summarize({ period: 60, timestamps: [], series: {} })).toMatchObject({ availability: null, success: null });
  });
});

describe("run an example", () => {
  it("builds an absolute predict URL", () => {
    expect(predictUrl("/api", "http://127.0.0.1:8000")).toBe("http://127.0.0.1:8000/api/predict");
    expect(predictUrl("https://api.example/prod/", "https://console.example")).toBe("https://api.example/prod/predict");
  });
  it("says what the stage costs idle, itemised, and that local mode's figure is the defaults'", () => {
    const cost = {
      currency: "USD",
      region: "us-east-1",
      pricedAs: "us-east-1",
      pricesAsOf: "2026-12-01",
      items: [{ what: "1 NAT gateway (data on top)", monthly: 32.85 }],
      monthly: 32.85,
      hourly: 0.045,
      local: true,
    };
    expect(stageCostText(cost)).toBe(
      "Deployed with the stack's defaults, this stage would cost $32.85/month with no model running (1 NAT gateway (data on top) $32.85), before requests, storage and logs.",
    );
    expect(stageCostText({ ...cost, local: false, items: [], monthly: 0 })).toMatch(/^This stage costs \$0\/month/);
  });
  it("writes the same prediction for the SDK, and the standard protocols' URLs by name", () => {
    expect(pythonSnippet("http://h:8000", "diamonds", '[{"carat": 0.3}]')).toBe(
      'import kraken\nk = kraken.connect("http://h:8000")  # signs in as the console does\nm = k.model("diamonds")\nm.predict([{"carat":0.3}])',
    );
    expect(pythonSnippet("http://h", "d", "not json")).toContain('m.predict([{"feature":1.0}])');
    // JSON's literals as Python spells them (outside strings only), and numbers as written.
    expect(pythonSnippet("http://h", "d", '[{"new": false, "note": "true or null", "gone": null}, [true, 0.0]]')).toContain(
      'm.predict([{"new":False,"note":"true or null","gone":None},[True,0.0]])',
    );
    expect(protocolUrls("/api", "http://h", "diamonds").map((p) => p.url)).toEqual([
      "http://h/api/v2/models/diamonds/infer",
      "http://h/api/models/diamonds/invocations",
      "http://h/api/models/diamonds/api/v1.0/predictions",
    ]);
  });
  it("keeps the numbers as written, on one line", () => {
    const cmd = curlCommand("http://h/api/predict", "id-1", '[\n  [0.0, 1e3, -2],\n  {"a b": "x\\u0041"}\n]');
    expect(cmd).toContain(`-d '{"modelData":[[0.0,1e3,-2],{"a b":"xA"}],"metaData":{"modelId":"id-1"}}'`);
  });
  it("quotes the body for a POSIX shell", () => {
    const cmd = curlCommand("http://h/api/predict", "id-1", `[["it's"]]`);
    expect(cmd).toContain(`curl -X POST 'http://h/api/predict'`);
    expect(cmd).toContain(`-d '{"modelData":[["it'\\''s"]],"metaData":{"modelId":"id-1"}}'`);
  });
  it("authenticates with a just-created client token, else shows a Bearer placeholder; public needs nothing", () => {
    const basic = curlCommand("http://h/api/predict", "id-1", "[[1]]", curlAuthFor("private", { name: "svc", token: "t'k" }));
    expect(basic).toContain(`-u 'svc:t'\\''k' \\\n`);
    const placeholder = curlCommand("http://h/api/predict", "id-1", "[[1]]", curlAuthFor(undefined, null));
    expect(placeholder).toContain(`-H 'Authorization: Bearer <your token>'`);
    expect(curlAuthFor("public", { name: "svc", token: "t" })).toEqual({ kind: "none" });
    expect(curlCommand("http://h/api/predict", "id-1", "[[1]]")).not.toContain("Authorization");
  });
});

describe("chart points", () => {
  it("finds values a line cannot draw", async () => {
    const { isolated } = await import("../components/Chart");
    expect(isolated([null, 3, null, 4, 5, null, 6])).toEqual([1, 6]);
    expect(isolated([1])).toEqual([0]);
    expect(isolated([null, null])).toEqual([]);
  });
});
