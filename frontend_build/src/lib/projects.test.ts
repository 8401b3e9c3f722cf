import { describe, expect, it } from "vitest";
import { chooseProject, defaultProjectFor, projectChoices, projectStorageKey, validateProjectName } from "./projects";

describe("project names", () => {
  it("follows the API's rule: 1-40 lowercase letters, digits and dashes, starting with a letter", () => {
    expect(validateProjectName("pricing")).toBeNull();
    expect(validateProjectName("fraud-2")).toBeNull();
    expect(validateProjectName("a")).toBeNull();
    expect(validateProjectName("a".repeat(40))).toBeNull();
    expect(validateProjectName("")).toBe("Enter a name.");
    expect(validateProjectName("a".repeat(41))).toBe("Use at most 40 characters.");
    expect(validateProjectName("2fast")).toBe("Start with a lowercase letter a-z.");
    expect(validateProjectName("-x")).toBe("Start with a lowercase letter a-z.");
    expect(validateProjectName("Fraud")).toBe("Start with a lowercase letter a-z.");
    expect(validateProjectName("fraud team")).toBe("Use only lowercase letters a-z, digits 0-9 and hyphens (-).");
    expect(validateProjectName("fraud_team")).toBe("Use only lowercase letters a-z, digits 0-9 and hyphens (-).");
  });
});

describe("the project switcher", () => {
  it("remembers a choice per user", () => {
    expect(projectStorageKey("dana")).toBe("kraken.project.dana");
    expect(projectStorageKey("dana")).not.toBe(projectStorageKey("admin"));
  });

  it("keeps the remembered project only while the user still sees it", () => {
    expect(chooseProject(null, ["pricing"])).toBeNull();
    expect(chooseProject("pricing", undefined)).toBe("pricing"); // not known yet
    expect(chooseProject("pricing", ["fraud", "pricing"])).toBe("pricing");
    expect(chooseProject("fraud", ["pricing"])).toBeNull(); // deleted, or no longer a member
  });
});

describe("the model form's project", () => {
  it("defaults to the switcher's project, else default, else the first the user may create in", () => {
    expect(defaultProjectFor("pricing", ["default", "pricing"])).toBe("pricing");
    expect(defaultProjectFor(null, ["default", "pricing"])).toBe("default");
    expect(defaultProjectFor("fraud", ["default", "pricing"])).toBe("default"); // a viewer there
    expect(defaultProjectFor(null, ["pricing"])).toBe("pricing"); // a member of pricing only
    expect(defaultProjectFor(null, [])).toBe("default");
  });

  it("offers the projects the user may create in, default first, and keeps the model's own", () => {
    expect(projectChoices(["pricing", "fraud", "default"])).toEqual(["default", "fraud", "pricing"]);
    expect(projectChoices(["pricing"], "pricing")).toEqual(["pricing"]);
    expect(projectChoices(["pricing"], "churn")).toEqual(["churn", "pricing"]);
    expect(projectChoices([])).toEqual(["default"]);
  });
});
