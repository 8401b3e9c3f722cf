import { describe, expect, it } from "vitest";
import type { Model } from "../api/types";
import { metadataRow } from "./metadata";
import { scheduleRow } from "./schedules";
import {
  FARGATE_SIZES,
  apiErrorsToForm,
  emptyForm,
  envRow,
  formFromModel,
  isFargateSize,
  memoryChoices,
  toCreateBody,
  toUpdateBody,
  validateClientName,
  validateEnv,
  validateForm,
  validateName,
  validatePort,
  withMetadataErrors,
} from "./validation";

describe("Fargate sizes", () => {
  it("offers the documented memory per vCPU", () => {
    expect(memoryChoices(0.25)).toEqual([0.5, 1, 2]);
    expect(memoryChoices(0.5)).toEqual([1, 2, 3, 4]);
    expect(memoryChoices(1)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(memoryChoices(2)[0]).toBe(4);
    expect(memoryChoices(2).at(-1)).toBe(16);
    expect(memoryChoices(4)).toHaveLength(23);
    expect(memoryChoices(4).at(-1)).toBe(30);
    expect(memoryChoices(3)).toEqual([]);
    expect([...FARGATE_SIZES.keys()]).toEqual([0.25, 0.5, 1, 2, 4]);
  });
  it("accepts only valid pairs", () => {
    expect(isFargateSize(0.25, 0.5)).toBe(true);
    expect(isFargateSize(0.25, 3)).toBe(false);
    expect(isFargateSize(0.5, 0.5)).toBe(false);
    expect(isFargateSize(4, 8)).toBe(true);
    expect(isFargateSize(4, 8.5)).toBe(false);
  });
  it("explains an invalid pair on the memory field", () => {
    const errors = validateForm({ ...emptyForm(), name: "iris", containerCpu: 1, containerMemory: 1 });
    expect(errors.containerMemory).toMatch(/2, 3, 4, 5, 6, 7, 8 GB for 1 vCPU/);
    expect(errors.containerCpu).toBeUndefined();
  });
});

describe("name", () => {
  it.each([
    ["iris", null],
    ["a", null],
    ["iris-v2-0", null],
    ["x".repeat(64), null],
  ])("accepts %s", (name, expected) => expect(validateName(name)).toBe(expected));
  it.each(["", "Iris", "iris_v2", "iris v2", "iris.v2", "x".repeat(65), "ïris"])("rejects %j", (name) =>
    expect(validateName(name)).not.toBeNull(),
  );
});

describe("port", () => {
  it.each(["1", "80", "8080", "65535"])("accepts %s", (port) => expect(validatePort(port)).toBeNull());
  it.each(["", "0", "65536", "-1", "80.5", "abc", "1e3"])("rejects %j", (port) => expect(validatePort(port)).not.toBeNull());
});

describe("env", () => {
  it("accepts valid keys and ignores fully empty rows", () => {
    expect(validateEnv([envRow("LOG_LEVEL", "info"), envRow("_X1", ""), envRow("", "")])).toEqual({ rows: {}, general: null });
  });
  it("rejects bad and duplicate keys, and values over 4 KB", () => {
    const bad = envRow("1X", "v");
    const dup1 = envRow("A", "1");
    const dup2 = envRow("A", "2");
    const big = envRow("BIG", "x".repeat(4097));
    const multibyte = envRow("MB", "é".repeat(2049)); // 4098 bytes in UTF-8
    const fits = envRow("FITS", "x".repeat(4096));
    const orphan = envRow("", "value without a name");
    const result = validateEnv([bad, dup1, dup2, big, multibyte, fits, orphan]);
    expect(Object.keys(result.rows).map(Number).sort()).toEqual([bad.id, dup2.id, big.id, multibyte.id, orphan.id].sort());
    expect(result.rows[big.id]?.value).toMatch(/4 KB/);
  });
  it("allows at most 50 keys", () => {
    const rows = Array.from({ length: 51 }, (_, i) => envRow(`K${i}`, "v"));
    expect(validateEnv(rows).general).toMatch(/50/);
    expect(validateEnv(rows.slice(0, 50)).general).toBeNull();
  });
});

describe("form bodies", () => {
  const model: Model = {
    id: "m1",
    name: "iris",
    version: "1",
    description: "",
    dockerImage: null,
    artifactFormat: "joblib",
    containerPort: 8080,
    containerCpu: 0.5,
    containerMemory: 1,
    env: { A: "1" },
    predictPath: "/predict",
    healthPath: "/health",
    status: "STOPPED",
    statusReason: null,
    createdBy: "ann",
    updatedBy: "ann",
    createdAt: "2024-01-01T00:00:00Z",
    updatedAt: "2024-01-01T00:00:00Z",
    revision: 1,
    predictTimeoutSeconds: 25,
    captureBodyBytes: 16384,
    endpointVisibility: "private",
    artifact: null,
    artifactPendingSince: null,
    rateLimitPerSecond: null,
    idleStopMinutes: null,
    idleSince: null,
    schedules: [],
    failedForGood: false,
    deployment: [],
    versions: [],
    project: "default",
    metadata: {},
    deployedBy: null,
    privateRegistry: false,
    rollout: null,
  };

  it("creates an artifact model with only known fields", () => {
    const body = toCreateBody({ ...emptyForm(), name: " iris ", env: [envRow("A", "1"), envRow("", "")] });
    expect(body).toEqual({
      name: "iris",
      version: "1",
      artifactFormat: "joblib",
      containerPort: 8080,
      containerCpu: 0.5,
      containerMemory: 1,
      env: { A: "1" },
      predictPath: "/predict",
      healthPath: "/health",
    });
  });

  it("creates an image model without artifactFormat", () => {
    const body = toCreateBody({ ...emptyForm(), name: "x", kind: "image", dockerImage: "repo/img:1" });
    expect(body.dockerImage).toBe("repo/img:1");
    expect("artifactFormat" in body).toBe(false);
  });

  it("updates only what changed", () => {
    expect(toUpdateBody(formFromModel(model), model)).toEqual({});
    const form = { ...formFromModel(model), version: "2", containerCpu: 1, containerMemory: 2 };
    expect(toUpdateBody(form, model)).toEqual({ version: "2", containerCpu: 1, containerMemory: 2 });
  });

  it("clears the other kind when switching to an image", () => {
    const form = { ...formFromModel(model), kind: "image" as const, dockerImage: "repo/img:2" };
    expect(toUpdateBody(form, model)).toEqual({ dockerImage: "repo/img:2", artifactFormat: null });
  });

  it("sends env as a whole when it changed", () => {
    const form = { ...formFromModel(model), env: [envRow("A", "1"), envRow("B", "2")] };
    expect(toUpdateBody(form, model)).toEqual({ env: { A: "1", B: "2" } });
  });

  it("sends a secret's value once, keeps a stored one untouched, and never shows it", () => {
    const withSecret = { ...model, env: { PLAIN: "1", API_KEY: { secret: true as const } } };
    const form = formFromModel(withSecret);
    const stored = form.env.find((r) => r.key === "API_KEY");
    expect(stored).toMatchObject({ secret: true, stored: true, value: "" });
    expect(toUpdateBody(form, withSecret)).toEqual({}); // unchanged: nothing to send
    const renamedPlain = { ...form, env: form.env.map((r) => (r.key === "PLAIN" ? { ...r, value: "2" } : r)) };
    expect(toUpdateBody(renamedPlain, withSecret)).toEqual({ env: { PLAIN: "2", API_KEY: { secret: true } } });
    const replaced = { ...form, env: form.env.map((r) => (r.key === "API_KEY" ? { ...r, value: "new" } : r)) };
    expect(toUpdateBody(replaced, withSecret).env).toEqual({ PLAIN: "1", API_KEY: { secret: true, value: "new" } });
    expect(toCreateBody({ ...emptyForm(), name: "x", env: [envRow("TOKEN", "t0p", true)] }).env).toEqual({
      TOKEN: { secret: true, value: "t0p" },
    });
    // A new secret needs its value; a stored one may stay empty.
    const fresh = envRow("TOKEN", "", true);
    expect(validateEnv([fresh, stored!]).rows).toEqual({ [fresh.id]: { value: "Enter the secret's value." } });
  });

  it("sends endpointVisibility only when public on create, and when changed on update", () => {
    expect("endpointVisibility" in toCreateBody({ ...emptyForm(), name: "x" })).toBe(false);
    expect(toCreateBody({ ...emptyForm(), name: "x", endpointVisibility: "public" }).endpointVisibility).toBe("public");
    expect(formFromModel(model).endpointVisibility).toBe("private");
    expect(toUpdateBody({ ...formFromModel(model), endpointVisibility: "public" }, model)).toEqual({ endpointVisibility: "public" });
    const publicModel = { ...model, endpointVisibility: "public" as const };
    expect(toUpdateBody(formFromModel(publicModel), publicModel)).toEqual({});
    expect(toUpdateBody({ ...formFromModel(publicModel), endpointVisibility: "private" }, publicModel)).toEqual({
      endpointVisibility: "private",
    });
  });

  it("sends the idle stop when set, and null to turn it off", () => {
    expect("idleStopMinutes" in toCreateBody({ ...emptyForm(), name: "x" })).toBe(false);
    expect(toCreateBody({ ...emptyForm(), name: "x", idleStopMinutes: " 15 " }).idleStopMinutes).toBe(15);
    expect(toUpdateBody({ ...formFromModel(model), idleStopMinutes: "30" }, model)).toEqual({ idleStopMinutes: 30 });
    const resting = { ...model, idleStopMinutes: 30 };
    expect(formFromModel(resting).idleStopMinutes).toBe("30");
    expect(toUpdateBody(formFromModel(resting), resting)).toEqual({});
    expect(toUpdateBody({ ...formFromModel(resting), idleStopMinutes: "" }, resting)).toEqual({ idleStopMinutes: null });
    for (const bad of ["0", "1.5", "-3", "abc", "10081"])
      expect(validateForm({ ...emptyForm(), name: "x", idleStopMinutes: bad }).idleStopMinutes).toMatch(/1 to 10080/);
    expect(validateForm({ ...emptyForm(), name: "x", idleStopMinutes: "10080" }).idleStopMinutes).toBeUndefined();
  });

  it("sends schedules only when there are some or they changed, and places the API's errors on their rows", () => {
    expect("schedules" in toCreateBody({ ...emptyForm(), name: "x" })).toBe(false);
    const office = [scheduleRow("start", "0 8 * * 1-5", "Europe/Berlin")];
    expect(toCreateBody({ ...emptyForm(), name: "x", schedules: office }).schedules).toEqual([
      { action: "start", cron: "0 8 * * 1-5", timezone: "Europe/Berlin" },
    ]);
    const scheduled: Model = {
      ...model,
      schedules: [{ action: "stop", cron: "0 18 * * *", timezone: "UTC", nextRun: "2026-12-03T18:00:00.000Z" }],
    };
    const form = formFromModel(scheduled);
    expect(form.schedules.map((r) => [r.action, r.cron, r.timezone])).toEqual([["stop", "0 18 * * *", "UTC"]]);
    expect(toUpdateBody(form, scheduled)).toEqual({});
    expect(toUpdateBody({ ...form, schedules: [] }, scheduled)).toEqual({ schedules: [] });
    expect(validateForm({ ...form, schedules: [scheduleRow("start", "0 8 * *")] }).scheduleRows).toBeDefined();
    const { errors } = apiErrorsToForm([{ field: "schedules.0.timezone", message: "not a known time zone" }], form);
    expect(errors.scheduleRows?.[form.schedules[0]?.id ?? -1]).toEqual({ timezone: "not a known time zone" });
  });

  it("puts a model in a project: sent only for another than default, and a change of it on edit moves the model", () => {
    expect("project" in toCreateBody({ ...emptyForm(), name: "x" })).toBe(false);
    expect(emptyForm("pricing").project).toBe("pricing");
    expect(toCreateBody({ ...emptyForm("pricing"), name: "x" }).project).toBe("pricing");
    const inPricing: Model = { ...model, project: "pricing" };
    const form = formFromModel(inPricing);
    expect(form.project).toBe("pricing");
    expect(toUpdateBody(form, inPricing)).toEqual({});
    expect(toUpdateBody({ ...form, project: "default" }, inPricing)).toEqual({ project: "default" });
    expect(toUpdateBody({ ...form, project: "fraud", version: "2" }, inPricing)).toEqual({ project: "fraud", version: "2" });
    expect(validateForm({ ...form, project: "" }).project).toBe("Choose a project.");
    expect(validateForm(form).project).toBeUndefined();
    expect(apiErrorsToForm([{ field: "project", message: "bad name" }], form).errors.project).toBe("bad name");
  });

  it("sends metadata only when there is some or it changed, checks it as typed and on submit, and places the API's errors", () => {
    expect("metadata" in toCreateBody({ ...emptyForm(), name: "x" })).toBe(false);
    const rows = [metadataRow(" team ", " fraud "), metadataRow("", "")];
    expect(toCreateBody({ ...emptyForm(), name: "x", metadata: rows }).metadata).toEqual({ team: "fraud" });
    const tagged: Model = { ...model, metadata: { team: "fraud", dataset: "2024-05" } };
    const form = formFromModel(tagged);
    expect(form.metadata.map((r) => [r.key, r.value])).toEqual([
      ["dataset", "2024-05"],
      ["team", "fraud"],
    ]);
    expect(toUpdateBody(form, tagged)).toEqual({});
    // The whole map goes: a removed entry is gone, none left clears it.
    expect(toUpdateBody({ ...form, metadata: form.metadata.slice(1) }, tagged)).toEqual({ metadata: { team: "fraud" } });
    expect(toUpdateBody({ ...form, metadata: [] }, tagged)).toEqual({ metadata: {} });

    // While typing, a bad key is said at once; a value still waiting for its key only on submit.
    const bad = metadataRow("bad key", "x");
    const keyless = metadataRow("", "waiting");
    const typing = withMetadataErrors({ name: "kept" }, [bad, keyless], false);
    expect(typing.name).toBe("kept");
    expect(typing.metadataRows).toEqual({
      [bad.id]: { key: "Start with a letter or digit; then use letters, digits and _ . : / - only." },
    });
    expect(withMetadataErrors(typing, [], false)).toEqual({ name: "kept" });
    expect(validateForm({ ...form, metadata: [keyless] }).metadataRows).toEqual({ [keyless.id]: { key: "Enter a key for this value." } });

    const { errors } = apiErrorsToForm([{ field: "metadata.team", message: "String should have at most 256 characters" }], form);
    const team = form.metadata.find((r) => r.key === "team")!;
    expect(errors.metadataRows).toEqual({ [team.id]: { value: "String should have at most 256 characters" } });
  });

  it("checks client token names", () => {
    expect(validateClientName("billing_svc-2")).toBeNull();
    expect(validateClientName("")).toMatch(/Enter a name/);
    expect(validateClientName("Billing")).toMatch(/lowercase/);
    expect(validateClientName("a".repeat(65))).toMatch(/64/);
  });

  it("requires an image for image models", () => {
    expect(validateForm({ ...emptyForm(), name: "x", kind: "image" }).dockerImage).toBeTruthy();
    expect(validateForm({ ...emptyForm(), name: "x" })).toEqual({});
  });
});

describe("API field errors in the form", () => {
  it("places simple fields, env keys, and keeps the rest", () => {
    const form = { ...emptyForm(), env: [envRow("FOO", "x")] };
    const fooId = form.env[0]!.id;
    const { errors, unplaced } = apiErrorsToForm(
      [
        { field: "containerMemory", message: "bad pair" },
        { field: "env.FOO", message: "too long" },
        { field: "env.GONE", message: "nope" },
        { field: "foo", message: "Extra inputs are not permitted" },
      ],
      form,
    );
    expect(errors.containerMemory).toBe("bad pair");
    expect(errors.envRows?.[fooId]?.value).toBe("too long");
    expect(errors.env).toBe("GONE: nope");
    expect(unplaced).toEqual(["foo: Extra inputs are not permitted"]);
  });
});

describe("rules shared with the API schema", () => {
  const base = { ...emptyForm(), name: "iris" };
  it("checks versions", () => {
    expect(validateForm({ ...base, version: "1.2.0-rc.1+build" }).version).toBeUndefined();
    expect(validateForm({ ...base, version: "v 1" }).version).toBeTruthy();
    expect(validateForm({ ...base, version: "x".repeat(65) }).version).toBeTruthy();
  });
  it("checks image references", () => {
    const image = (dockerImage: string) => validateForm({ ...base, kind: "image", dockerImage }).dockerImage;
    expect(image("123456789012.dkr.ecr.us-east-1.amazonaws.com/iris:1.0")).toBeUndefined();
    expect(image("repo/img@sha256:abc")).toBeUndefined();
    expect(image("-bad")).toBeTruthy();
    expect(image("has space")).toBeTruthy();
  });
  it("checks paths", () => {
    expect(validateForm({ ...base, predictPath: "/v1/predict" }).predictPath).toBeUndefined();
    expect(validateForm({ ...base, predictPath: "predict" }).predictPath).toBeTruthy();
    expect(validateForm({ ...base, healthPath: "/health?x=1" }).healthPath).toBeTruthy();
  });
  it("limits descriptions to 2048 characters and env names to 128", () => {
    expect(validateForm({ ...base, description: "x".repeat(2048) }).description).toBeUndefined();
    expect(validateForm({ ...base, description: "x".repeat(2049) }).description).toBeTruthy();
    expect(validateEnv([envRow("K".repeat(129), "v")]).rows).not.toEqual({});
  });
});
