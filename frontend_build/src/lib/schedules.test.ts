import { describe, expect, it } from "vitest";
import { MAX_SCHEDULES, sameSchedules, scheduleRow, schedulesBody, validateCron, validateSchedules, validateTimezone } from "./schedules";

describe("schedules", () => {
  it("accepts 5-field cron expressions", () => {
    for (const good of ["0 8 * * 1-5", "*/15 9-17 * * MON-FRI", "30 2 1,15 JAN-MAR *", "0 0 * * 7", "  0  18 * * *  "])
      expect(validateCron(good), good).toBeNull();
  });

  it("says which field of a cron expression is wrong", () => {
    expect(validateCron("")).toMatch(/Enter a cron expression/);
    expect(validateCron("0 8 * *")).toMatch(/5 fields/);
    expect(validateCron("0 0 8 * * *")).toMatch(/5 fields/);
    expect(validateCron("61 8 * * *")).toMatch(/minute field.*0-59/);
    expect(validateCron("0 24 * * *")).toMatch(/hour field/);
    expect(validateCron("0 8 0 * *")).toMatch(/day-of-month field/);
    expect(validateCron("0 8 * 13 *")).toMatch(/month field/);
    expect(validateCron("0 8 * * 8")).toMatch(/day-of-week field/);
    expect(validateCron("0 8 * * ?!")).toMatch(/day-of-week field/);
  });

  it("knows IANA time zones", () => {
    expect(validateTimezone("Europe/Berlin")).toBeNull();
    expect(validateTimezone("UTC")).toBeNull();
    expect(validateTimezone("Mars/Base")).toMatch(/IANA name/);
    expect(validateTimezone(" ")).toMatch(/Enter a time zone/);
  });

  it("reports errors per row and too many rows", () => {
    const bad = scheduleRow("stop", "x", "Nowhere");
    const good = scheduleRow("start", "0 8 * * 1-5", "Europe/Berlin");
    const checked = validateSchedules([good, bad]);
    expect(checked.rows[good.id]).toBeUndefined();
    expect(Object.keys(checked.rows[bad.id] ?? {}).sort()).toEqual(["cron", "timezone"]);
    expect(checked.general).toBeNull();
    const many = Array.from({ length: MAX_SCHEDULES + 1 }, () => scheduleRow("start", "0 8 * * *"));
    expect(validateSchedules(many).general).toMatch(/At most 10/);
  });

  it("sends the schedules tidied, and compares them with the zone's default", () => {
    const body = schedulesBody([scheduleRow("start", " 0  8 * * 1-5 ", " Europe/Berlin ")]);
    expect(body).toEqual([{ action: "start", cron: "0 8 * * 1-5", timezone: "Europe/Berlin" }]);
    expect(sameSchedules([{ action: "stop", cron: "0 18 * * *" }], [{ action: "stop", cron: "0 18 * * *", timezone: "UTC" }])).toBe(true);
    expect(sameSchedules(body, [])).toBe(false);
    expect(sameSchedules(body, [{ action: "stop", cron: "0 8 * * 1-5", timezone: "Europe/Berlin" }])).toBe(false);
  });
});
