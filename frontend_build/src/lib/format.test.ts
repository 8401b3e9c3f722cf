import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatUsd,
  formatLogMessage,
  formatClock,
  formatDuration,
  formatLocal,
  formatPercent,
  formatRelative,
  formatUtc,
  prettyJson,
  sentence,
  statusClass,
} from "./format";

const ISO = "2024-03-10T15:04:05.123Z";

describe("times", () => {
  it("shows the user's zone in the text", () => {
    expect(formatLocal(ISO, "Asia/Kolkata", "en-US")).toBe("Mar 10, 2024, 08:34:05 PM");
    expect(formatLocal(ISO, "America/Los_Angeles", "en-US")).toBe("Mar 10, 2024, 08:04:05 AM");
    expect(formatClock(ISO, "Europe/Berlin", "en-GB")).toBe("16:04:05");
  });
  it("gives the exact UTC instant for the title", () => {
    expect(formatUtc(ISO)).toBe("2024-03-10 15:04:05 UTC");
    expect(formatUtc("2024-03-10T17:04:05+02:00")).toBe("2024-03-10 15:04:05 UTC");
  });
  it("passes through what is not a time", () => {
    expect(formatUtc("soon")).toBe("soon");
    expect(formatLocal("")).toBe("—");
  });
  it("says how long ago", () => {
    const now = Date.parse(ISO);
    expect(formatRelative(ISO, now + 10_000)).toBe("just now");
    expect(formatRelative(ISO, now + 5 * 60_000)).toBe("5 min ago");
    expect(formatRelative(ISO, now + 3 * 3_600_000)).toBe("3 h ago");
    expect(formatRelative(ISO, now - 2 * 86_400_000)).toBe("in 2 d");
  });
});

describe("sizes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1 KB"],
    [1536, "1.5 KB"],
    [10 * 1024 * 1024, "10 MB"],
    [123.4 * 1024 * 1024, "123 MB"],
    [5 * 1024 ** 3, "5 GB"],
  ])("%d bytes is %s", (bytes, text) => expect(formatBytes(bytes)).toBe(text));
  it("handles missing values", () => {
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(undefined)).toBe("—");
  });
});

describe("durations", () => {
  it.each([
    [0.84, "0.8 ms"],
    [3.25, "3.3 ms"],
    [42.4, "42 ms"],
    [999, "999 ms"],
    [1250, "1.25 s"],
    [59_000, "59 s"],
    [125_000, "2 min 5 s"],
    [3_600_000, "1 h"],
    [3_900_000, "1 h 5 min"],
  ])("%d ms is %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
  it("handles missing and negative values", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(-5)).toBe("0 ms");
  });
});

describe("misc", () => {
  it("formats percentages", () => {
    expect(formatPercent(99.456)).toBe("99.5%");
    expect(formatPercent(100)).toBe("100%");
    expect(formatPercent(null)).toBe("—");
  });
  it("pretty-prints JSON and leaves other text alone", () => {
    expect(prettyJson('{"a":[1]}')).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyJson("not json")).toBe("not json");
    expect(prettyJson(null)).toBe("");
  });
  it("classes HTTP statuses", () => {
    expect(statusClass(204)).toBe("2xx");
    expect(statusClass(404)).toBe("4xx");
    expect(statusClass(503)).toBe("5xx");
  });
});

describe("container log lines", () => {
  it("reads structured JSON lines", () => {
    expect(formatLogMessage('{"time":1.5,"level":"info","logger":"kraken.runner","message":"model loaded","sizeBytes":991}')).toEqual({
      level: "INFO",
      text: "model loaded logger=kraken.runner sizeBytes=991",
    });
  });
  it("leaves plain and broken lines alone", () => {
    expect(formatLogMessage("Traceback (most recent call last):")).toEqual({ level: null, text: "Traceback (most recent call last):" });
    expect(formatLogMessage("{not json")).toEqual({ level: null, text: "{not json" });
    expect(formatLogMessage("[1, 2]")).toEqual({ level: null, text: "[1, 2]" });
  });
});

describe("formatUsd", () => {
  it("shows cents for dollars and enough digits for fractions of a cent", () => {
    expect(formatUsd(0)).toBe("$0");
    expect(formatUsd(12.345)).toBe("$12.35");
    expect(formatUsd(0.024685)).toBe("$0.0247");
    expect(formatUsd(0.0041167)).toBe("$0.00412");
  });
});

describe("server messages", () => {
  it("reads as a sentence", () => {
    expect(sentence("no user with the username or e-mail address x@example.com")).toBe(
      "No user with the username or e-mail address x@example.com.",
    );
    expect(sentence("Already a sentence.")).toBe("Already a sentence.");
    expect(sentence("")).toBe("");
  });
});
