import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, buildUrl, loadRuntimeConfig, normalizeField, parseError, userSegment } from "./client";

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that records calls and answers from a queue. */
function fakeFetch(...answers: (Response | Error)[]) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    const next = answers.shift();
    if (!next) throw new Error("unexpected call");
    if (next instanceof Error) throw next;
    return next;
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

const headersOf = (call: Call) => new Headers(call.init.headers as Record<string, string>);

const MODEL = {
  id: "7d4c2b1e-0000-4000-8000-000000000001",
  name: "iris",
  version: "1",
  revision: 3,
};

describe("buildUrl", () => {
  it("joins base and path and leaves out empty query values", () => {
    expect(buildUrl("/api/", "/models", { limit: 25, search: "", status: undefined, nextToken: null })).toBe("/api/models?limit=25");
  });
  it("encodes query values", () => {
    expect(buildUrl("https://x.example/api", "models", { search: "a b&c", nextToken: "eyJ+/=" })).toBe(
      "https://x.example/api/models?search=a+b%26c&nextToken=eyJ%2B%2F%3D",
    );
  });
});

describe("ApiClient requests", () => {
  it("lists models with search, status and nextToken", async () => {
    const f = fakeFetch(json(200, { items: [], nextToken: "t2" }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const page = await api.listModels({ limit: 10, search: "  iris ", status: "RUNNING", nextToken: "t1" });
    expect(page.nextToken).toBe("t2");
    expect(f.calls[0]?.url).toBe("/api/models?limit=10&search=iris&status=RUNNING&nextToken=t1");
    expect(f.calls[0]?.init.method).toBe("GET");
    expect(f.calls[0]?.init.body).toBeUndefined();
  });

  it("sends JSON bodies with a content type", async () => {
    const f = fakeFetch(json(201, MODEL));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.createModel({
      name: "iris",
      version: "1",
      artifactFormat: "joblib",
      containerPort: 8080,
      containerCpu: 0.25,
      containerMemory: 1,
    });
    const call = f.calls[0]!;
    expect(call.init.method).toBe("POST");
    expect(headersOf(call).get("Content-Type")).toBe("application/json");
    expect(JSON.parse(String(call.init.body))).toMatchObject({ name: "iris", containerCpu: 0.25 });
  });

  it("guards updates with If-Match and the revision", async () => {
    const f = fakeFetch(json(200, { ...MODEL, revision: 4 }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const saved = await api.updateModel(MODEL.id, { version: "2" }, 3);
    expect(saved.revision).toBe(4);
    const call = f.calls[0]!;
    expect(call.url).toBe(`/api/models/${MODEL.id}`);
    expect(call.init.method).toBe("PUT");
    expect(headersOf(call).get("If-Match")).toBe("3");
    expect(JSON.parse(String(call.init.body))).toEqual({ version: "2" });
  });

  it("deploys and rolls back with a quoted If-Match and the body the API names", async () => {
    const f = fakeFetch(json(202, MODEL), json(202, MODEL));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.deploy(
      MODEL.id,
      [
        { version: 1, weight: 90, replicas: 1 },
        { version: 2, weight: 10, replicas: 2 },
      ],
      "try v2",
      7,
    );
    await api.rollback(MODEL.id, "0001-abc", "back", 8);
    const [deploy, rollback] = f.calls;
    expect(deploy!.url).toBe(`/api/models/${MODEL.id}/deployment`);
    expect(deploy!.init.method).toBe("PUT");
    expect(headersOf(deploy!).get("If-Match")).toBe('"7"');
    expect(JSON.parse(String(deploy!.init.body))).toEqual({
      versions: [
        { version: 1, weight: 90, replicas: 1 },
        { version: 2, weight: 10, replicas: 2 },
      ],
      message: "try v2",
    });
    expect(rollback!.url).toBe(`/api/models/${MODEL.id}/rollback`);
    expect(headersOf(rollback!).get("If-Match")).toBe('"8"');
    expect(JSON.parse(String(rollback!.init.body))).toEqual({ entryId: "0001-abc", message: "back" });
  });

  it("lists one project's models with ?project=, and every visible project's without it", async () => {
    const f = fakeFetch(json(200, { items: [], nextToken: null }), json(200, { items: [], nextToken: null }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.listModels({ limit: 25, project: "pricing" });
    await api.listModels({ limit: 25, project: null });
    expect(f.calls.map((c) => c.url)).toEqual(["/api/models?limit=25&project=pricing", "/api/models?limit=25"]);
  });

  it("manages projects and their members by username or e-mail address", async () => {
    const member = { username: "dana", role: "editor", addedBy: "admin", addedAt: "2026-01-01T00:00:00Z" };
    const f = fakeFetch(
      json(200, { items: [] }),
      json(201, { name: "pricing", description: "", createdBy: "admin", createdAt: "2026-01-01T00:00:00Z", role: "admin" }),
      json(200, member),
      json(200, { items: [member] }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
    );
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.listProjects();
    await api.createProject({ name: "pricing", description: "Prices" });
    expect((await api.setMember("pricing", "dana+ml@example.com", "editor")).username).toBe("dana");
    await api.listMembers("pricing");
    await api.removeMember("pricing", "dana");
    await api.deleteProject("pricing");
    expect(f.calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      "GET /api/projects",
      "POST /api/projects",
      "PUT /api/projects/pricing/members/dana+ml@example.com",
      "GET /api/projects/pricing/members",
      "DELETE /api/projects/pricing/members/dana",
      "DELETE /api/projects/pricing",
    ]);
    expect(JSON.parse(String(f.calls[1]!.init.body))).toEqual({ name: "pricing", description: "Prices" });
    expect(JSON.parse(String(f.calls[2]!.init.body))).toEqual({ role: "editor" });
  });

  it("keeps @ and + of a user's path segment and escapes the rest", () => {
    expect(userSegment("ann@example.com")).toBe("ann@example.com");
    expect(userSegment("a+b@example.com")).toBe("a+b@example.com");
    expect(userSegment("x/y z?#%")).toBe("x%2Fy%20z%3F%23%25");
  });

  it("reads one version's metrics with ?version=", async () => {
    const f = fakeFetch(json(200, { period: 60, timestamps: [], series: {} }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.getMetrics(MODEL.id, { from: "a", to: "b", period: 60, version: 2 });
    expect(f.calls[0]!.url).toBe(`/api/models/${MODEL.id}/metrics?from=a&to=b&period=60&version=2`);
  });

  it("turns a stale update into a conflict ApiError", async () => {
    const f = fakeFetch(json(409, { error: { code: "conflict", message: "the model has changed" } }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const err = await api.updateModel(MODEL.id, { version: "2" }, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).isConflict).toBe(true);
    expect((err as ApiError).message).toBe("the model has changed");
  });

  it("tells a quota's refusal from a stale revision: both 409, only the code differs", async () => {
    const message = "project pricing has a quota of 3 replicas: 3 in use, 1 more asked, 0 left";
    const f = fakeFetch(
      json(409, { error: { code: "quota_exceeded", message } }),
      json(409, { error: { code: "conflict", message: "the model has changed" } }),
    );
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const quota = (await api.deploy(MODEL.id, [], "", 3).catch((e: unknown) => e)) as ApiError;
    expect(quota.isQuotaExceeded).toBe(true);
    expect(quota.isConflict).toBe(false);
    expect(quota.message).toBe(message);
    const stale = (await api.deploy(MODEL.id, [], "", 3).catch((e: unknown) => e)) as ApiError;
    expect(stale.isQuotaExceeded).toBe(false);
    expect(stale.isConflict).toBe(true);
    // A 409 that is not our shape (a proxy's) is a conflict, not a quota.
    expect(parseError(409, "").isConflict).toBe(true);
    expect(parseError(409, "").isQuotaExceeded).toBe(false);
  });

  it("lists models by creator, deployer and metadata, sending a metadata value only with its key", async () => {
    const f = fakeFetch(json(200, { items: [], nextToken: null }), json(200, { items: [], nextToken: null }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.listModels({ createdBy: " dana ", deployedBy: "admin", metadataKey: " team ", metadataValue: "fraud ops" });
    expect(f.calls[0]?.url).toBe("/api/models?createdBy=dana&deployedBy=admin&metadataKey=team&metadataValue=fraud+ops");
    await api.listModels({ metadataKey: " ", metadataValue: "orphan" });
    expect(f.calls[1]?.url).toBe("/api/models");
  });

  it("sets a project's quota and a model's registry credentials, and clears them", async () => {
    const project = { name: "pricing", quota: { maxVcpu: 4, maxMemoryGb: null, maxReplicas: 3, maxModels: null } };
    const f = fakeFetch(
      json(200, project),
      json(200, { ...MODEL, privateRegistry: true }),
      json(200, { ...MODEL, privateRegistry: false }),
    );
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.setQuota("pricing", project.quota);
    expect(f.calls[0]?.url).toBe("/api/projects/pricing/quota");
    expect(f.calls[0]?.init.method).toBe("PUT");
    expect(JSON.parse(String(f.calls[0]?.init.body))).toEqual(project.quota);
    expect((await api.setRegistryCredentials(MODEL.id, { username: "bot", password: "s3cret" })).privateRegistry).toBe(true);
    expect(f.calls[1]?.url).toBe(`/api/models/${MODEL.id}/registry-credentials`);
    expect(f.calls[1]?.init.method).toBe("PUT");
    expect(JSON.parse(String(f.calls[1]?.init.body))).toEqual({ username: "bot", password: "s3cret" });
    expect((await api.clearRegistryCredentials(MODEL.id)).privateRegistry).toBe(false);
    expect(f.calls[2]?.init.method).toBe("DELETE");
    expect(f.calls[2]?.init.body).toBeUndefined();
  });

  it("returns undefined for 204 (delete)", async () => {
    const f = fakeFetch(new Response(null, { status: 204 }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await expect(api.deleteModel(MODEL.id)).resolves.toBeUndefined();
    expect(f.calls[0]?.init.method).toBe("DELETE");
  });

  it("encodes ids in paths", async () => {
    const f = fakeFetch(json(200, MODEL));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.getModel("a/b?c");
    expect(f.calls[0]?.url).toBe("/api/models/a%2Fb%3Fc");
  });

  it("adds the auth headers from one hook to every call", async () => {
    const f = fakeFetch(json(200, { status: "ok", version: "1" }), json(200, { items: [], nextToken: null }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch, authHeaders: async () => ({ Authorization: "Bearer t0k" }) });
    await api.health();
    await api.listOperations(MODEL.id, { limit: 5, nextToken: "n" });
    for (const call of f.calls) expect(headersOf(call).get("Authorization")).toBe("Bearer t0k");
    expect(f.calls[1]?.url).toBe(`/api/models/${MODEL.id}/logs?limit=5&nextToken=n`);
  });

  it("on a 401 asks onUnauthorized and sends the call once more with the new header", async () => {
    const f = fakeFetch(json(401, { error: { code: "unauthorized", message: "expired" } }), json(200, { items: [], nextToken: null }));
    let token = "old";
    const onUnauthorized = vi.fn(async (used: Record<string, string>) => {
      expect(used.Authorization).toBe("Bearer old");
      token = "new";
      return true;
    });
    const api = new ApiClient({
      baseUrl: "/api",
      fetch: f.fetch,
      authHeaders: () => ({ Authorization: `Bearer ${token}` }),
      onUnauthorized,
    });
    await api.listModels();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(f.calls.map((c) => headersOf(c).get("Authorization"))).toEqual(["Bearer old", "Bearer new"]);
  });

  it("retries a 401 only once, reports the second, and throws it", async () => {
    const f = fakeFetch(
      json(401, { error: { code: "unauthorized", message: "no" } }),
      json(401, { error: { code: "unauthorized", message: "no" } }),
    );
    const onUnauthorized = vi.fn(async (_used: Record<string, string>, _afterRetry: boolean) => true);
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch, onUnauthorized });
    await expect(api.getModel("x")).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(onUnauthorized.mock.calls.map((c) => c[1])).toEqual([false, true]);
    expect(f.calls).toHaveLength(2);
  });

  it("does not retry when the refresh failed", async () => {
    const f = fakeFetch(json(401, { error: { code: "unauthorized", message: "no" } }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch, onUnauthorized: async () => false });
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
    expect(f.calls).toHaveLength(1);
  });

  it("sends predictions with the auth header and retries them after a refresh too", async () => {
    const f = fakeFetch(json(401, { error: { code: "unauthorized", message: "expired" } }), json(200, { results: [0] }));
    let token = "old";
    const api = new ApiClient({
      baseUrl: "/api",
      fetch: f.fetch,
      authHeaders: () => ({ Authorization: `Bearer ${token}` }),
      onUnauthorized: async () => {
        token = "new";
        return true;
      },
    });
    const result = await api.predict("m1", "[[1]]");
    expect(result.status).toBe(200);
    expect(headersOf(f.calls[1]!).get("Authorization")).toBe("Bearer new");
    expect(headersOf(f.calls[1]!).get("Content-Type")).toBe("application/json");
  });

  it("reads /me and manages client tokens", async () => {
    const f = fakeFetch(
      json(200, { username: "ann", groups: ["admin"], role: "admin" }),
      json(201, { name: "svc_1", token: "tok", createdAt: "2024-01-01T00:00:00Z" }),
      json(200, { items: [{ name: "svc_1", createdAt: "2024-01-01T00:00:00Z", lastUsedAt: null }] }),
      new Response(null, { status: 204 }),
    );
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    expect((await api.me()).role).toBe("admin");
    expect((await api.createClient("m/1", "svc_1")).token).toBe("tok");
    expect((await api.listClients("m/1")).items).toHaveLength(1);
    await api.revokeClient("m/1", "svc_1");
    expect(f.calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      "GET /api/me",
      "POST /api/models/m%2F1/clients",
      "GET /api/models/m%2F1/clients",
      "DELETE /api/models/m%2F1/clients/svc_1",
    ]);
    expect(JSON.parse(String(f.calls[1]?.init.body))).toEqual({ name: "svc_1" });
  });

  it("builds the requests, container-logs and metrics queries", async () => {
    const f = fakeFetch(
      json(200, { items: [], nextToken: null }),
      json(200, { items: [], nextToken: null }),
      json(200, { period: 60, timestamps: [], series: {} }),
    );
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    await api.listRequests(MODEL.id, { from: "2024-01-01T00:00:00.000Z", to: "2024-01-01T01:00:00.000Z", status: "5xx", limit: 50 });
    await api.listContainerLogs(MODEL.id, { limit: 200 });
    await api.getMetrics(MODEL.id, { from: "2024-01-01T00:00:00.000Z", to: "2024-01-01T01:00:00.000Z", period: 60 });
    expect(f.calls.map((c) => c.url)).toEqual([
      `/api/models/${MODEL.id}/requests?from=2024-01-01T00%3A00%3A00.000Z&to=2024-01-01T01%3A00%3A00.000Z&status=5xx&limit=50`,
      `/api/models/${MODEL.id}/container-logs?limit=200`,
      `/api/models/${MODEL.id}/metrics?from=2024-01-01T00%3A00%3A00.000Z&to=2024-01-01T01%3A00%3A00.000Z&period=60`,
    ]);
  });

  it("asks what the model's artifact declares through the v2 metadata route, signed in", async () => {
    const declared = {
      name: "iris",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4] }],
      outputs: [],
    };
    const f = fakeFetch(json(200, declared), json(409, { error: "the model is not running" }));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch, authHeaders: () => ({ Authorization: "Bearer t" }) });
    expect(await api.getModelMetadata(MODEL.id)).toEqual(declared);
    expect(f.calls[0]?.url).toBe(`/api/v2/models/${MODEL.id}`);
    expect(f.calls[0]?.init.method).toBe("GET");
    expect(headersOf(f.calls[0]!).get("Authorization")).toBe("Bearer t");
    // The protocol's error shape is a bare message: a stopped model's answer becomes an ApiError all the same.
    await expect(api.getModelMetadata(MODEL.id)).rejects.toMatchObject({ status: 409 });
  });

  it("reports a network failure as status 0", async () => {
    const f = fakeFetch(new TypeError("Failed to fetch"));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const err = (await api.health().catch((e: unknown) => e)) as ApiError;
    expect(err.isNetwork).toBe(true);
    expect(err.code).toBe("network_error");
  });

  it("lets aborts through untouched", async () => {
    const f = fakeFetch(new DOMException("aborted", "AbortError"));
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const err = await api.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DOMException);
  });

  it("predict reports status, timing headers and body, also for errors", async () => {
    const f = fakeFetch(
      json(200, { results: [0] }, { "X-Request-Id": "r-1", "Server-Timing": "model;dur=3.2" }),
      json(503, { error: { code: "service_unavailable", message: "the model is not running" } }),
    );
    const api = new ApiClient({ baseUrl: "/api", fetch: f.fetch });
    const ok = await api.predict(MODEL.id, "[[5.1, 3.5, 1.0, 0]]");
    expect(ok).toMatchObject({ status: 200, ok: true, requestId: "r-1", serverTiming: "model;dur=3.2", body: { results: [0] } });
    expect(ok.elapsedMs).toBeGreaterThanOrEqual(0);
    // The numbers go as written: 1.0 stays 1.0.
    expect(String(f.calls[0]?.init.body)).toBe(`{"modelData":[[5.1, 3.5, 1.0, 0]],"metaData":{"modelId":"${MODEL.id}"}}`);
    expect(f.calls[0]?.url).toBe("/api/predict");
    const failed = await api.predict(MODEL.id, "[1]");
    expect(failed).toMatchObject({ status: 503, ok: false });
  });
});

describe("parseError", () => {
  it("reads our error shape with field details and the request id", () => {
    const err = parseError(
      422,
      JSON.stringify({
        error: {
          code: "validation_error",
          message: "the request is not valid",
          details: [
            { field: "container_memory", message: "too big" },
            { field: "env.MY_VAR", message: "too long" },
          ],
        },
      }),
    );
    expect(err.code).toBe("validation_error");
    expect(err.details).toEqual([
      { field: "containerMemory", message: "too big" },
      { field: "env.MY_VAR", message: "too long" },
    ]);
  });

  it("takes requestId from a 500 body, else from the header", () => {
    expect(parseError(500, JSON.stringify({ error: { code: "internal", message: "x", requestId: "abc" } })).requestId).toBe("abc");
    expect(parseError(500, "<html>oops</html>", "hdr").requestId).toBe("hdr");
  });

  it("survives bodies that are not our shape", () => {
    const text = parseError(502, "<html>Bad Gateway</html>");
    expect(text.code).toBe("bad_gateway");
    expect(text.message).toMatch(/502/);
    const chalice = parseError(404, JSON.stringify({ Code: "NotFoundError", Message: "no such thing" }));
    expect(chalice.code).toBe("not_found");
    expect(chalice.message).toBe("no such thing");
    expect(parseError(404, "").isNotFound).toBe(true);
  });
});

describe("normalizeField", () => {
  it("camel-cases only the first segment", () => {
    expect(normalizeField("container_cpu")).toBe("containerCpu");
    expect(normalizeField("containerCpu")).toBe("containerCpu");
    expect(normalizeField("env.SOME_KEY")).toBe("env.SOME_KEY");
  });
});

describe("postPresigned", () => {
  class FakeXhr {
    static last: FakeXhr;
    method = "";
    url = "";
    body: FormData | null = null;
    status = 0;
    responseText = "";
    upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    constructor() {
      FakeXhr.last = this;
    }
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    send(body: FormData) {
      this.body = body;
    }
    abort() {
      this.onabort?.();
    }
  }
  const presigned = {
    url: "http://127.0.0.1:5000/bucket",
    fields: { key: "artifacts/m/model.joblib", policy: "p", "x-amz-signature": "s" },
    maxBytes: 100,
    expiresInSeconds: 900,
  };

  it("sends every field first and the file last, and reports progress", async () => {
    const api = new ApiClient({ baseUrl: "/api", fetch: fakeFetch().fetch, xhrFactory: () => new FakeXhr() as unknown as XMLHttpRequest });
    const progress: number[] = [];
    const done = api.postPresigned(presigned, new Blob(["x".repeat(10)]), (p) => progress.push(p.loaded));
    const xhr = FakeXhr.last;
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe(presigned.url);
    expect([...xhr.body!.keys()]).toEqual(["key", "policy", "x-amz-signature", "file"]);
    xhr.upload.onprogress?.({ loaded: 5, total: 10, lengthComputable: true } as ProgressEvent);
    xhr.status = 204;
    xhr.onload?.();
    await done;
    expect(progress).toEqual([5, 10]);
  });

  it("refuses files over maxBytes before sending", async () => {
    const api = new ApiClient({ baseUrl: "/api", fetch: fakeFetch().fetch, xhrFactory: () => new FakeXhr() as unknown as XMLHttpRequest });
    const err = (await api.postPresigned(presigned, new Blob(["x".repeat(101)])).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe("payload_too_large");
  });

  it("refuses an empty file before asking the store", async () => {
    let made = 0;
    const api = new ApiClient({
      baseUrl: "/api",
      fetch: fakeFetch().fetch,
      xhrFactory: () => (made++, new FakeXhr() as unknown as XMLHttpRequest),
    });
    const err = (await api.postPresigned(presigned, new Blob([])).catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code, made]).toEqual([400, "empty_file", 0]);
  });

  it("reads S3's XML error message", async () => {
    const api = new ApiClient({ baseUrl: "/api", fetch: fakeFetch().fetch, xhrFactory: () => new FakeXhr() as unknown as XMLHttpRequest });
    const done = api.postPresigned(presigned, new Blob(["x"])).catch((e: unknown) => e);
    FakeXhr.last.status = 403;
    FakeXhr.last.responseText = "<Error><Code>AccessDenied</Code><Message>Policy expired</Message></Error>";
    FakeXhr.last.onload?.();
    expect(((await done) as ApiError).message).toBe("Upload refused: Policy expired");
  });
});

describe("loadRuntimeConfig", () => {
  it("reads apiBase and stage", async () => {
    const f = fakeFetch(json(200, { apiBase: "https://api.example/prod", stage: "prod", mode: "aws" }));
    await expect(loadRuntimeConfig(f.fetch)).resolves.toMatchObject({ apiBase: "https://api.example/prod", stage: "prod", mode: "aws" });
    expect(f.calls[0]?.url).toBe("config.json");
  });
  it("falls back to /api when config.json is missing", async () => {
    const f = fakeFetch(json(404, { error: { code: "not_found", message: "x" } }));
    await expect(loadRuntimeConfig(f.fetch)).resolves.toEqual({ apiBase: "/api", stage: "unknown" });
  });
});
