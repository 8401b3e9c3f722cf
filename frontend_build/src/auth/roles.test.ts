import { describe, expect, it } from "vitest";
import { can, deniedReason, roleFromGroups } from "./roles";

describe("roles", () => {
  it("takes the highest role among the Cognito groups", () => {
    expect(roleFromGroups(["viewer", "admin", "other"])).toBe("admin");
    expect(roleFromGroups(["editor", "viewer"])).toBe("editor");
    expect(roleFromGroups(["other"])).toBeNull();
    expect(roleFromGroups(undefined)).toBeNull();
  });

  it("viewers only look; editors change models; admins also manage client tokens", () => {
    for (const action of ["create", "edit", "delete", "upload", "lifecycle", "predict", "clients"] as const) {
      expect(can("viewer", action)).toBe(false);
      expect(can("editor", action)).toBe(action !== "clients");
      expect(can("admin", action)).toBe(true);
    }
    expect(can("viewer", "view")).toBe(true);
    expect(can(null, "view")).toBe(false);
  });

  it("explains a denied control", () => {
    expect(deniedReason("admin", "clients")).toBeNull();
    expect(deniedReason("viewer", "lifecycle")).toBe("You have the viewer role: only editors and admins can start and stop models.");
    expect(deniedReason("editor", "clients")).toBe("You have the editor role: only admins can manage client tokens.");
    expect(deniedReason(null, "create")).toBe("You have no role: only editors and admins can add models.");
  });
});
