import { describe, expect, it } from "vitest";
import { bestRole, can, deniedReason, higher, projectsAllowing, roleFromGroups, roleIn, stageDeniedReason, type Roles } from "./roles";

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

describe("roles per project", () => {
  // A data scientist in no stage group: editor in pricing, viewer in fraud.
  const scientist: Roles = {
    stage: null,
    projects: [
      { name: "pricing", role: "editor" },
      { name: "fraud", role: "viewer" },
    ],
  };
  // A stage viewer who is admin of one project; /me lists every project for a stage role.
  const viewerAdminOfChurn: Roles = {
    stage: "viewer",
    projects: [
      { name: "churn", role: "admin" },
      { name: "default", role: "viewer" },
    ],
  };

  it("takes the higher of two roles", () => {
    expect(higher("viewer", "editor")).toBe("editor");
    expect(higher("admin", null)).toBe("admin");
    expect(higher(undefined, null)).toBeNull();
  });

  it("a member's role holds in their project only", () => {
    expect(roleIn(scientist, "pricing")).toBe("editor");
    expect(roleIn(scientist, "fraud")).toBe("viewer");
    expect(roleIn(scientist, "default")).toBeNull();
    for (const action of ["create", "edit", "delete", "upload", "lifecycle", "predict"] as const) {
      expect(can(roleIn(scientist, "pricing"), action)).toBe(true);
      expect(can(roleIn(scientist, "fraud"), action)).toBe(false);
      expect(can(roleIn(scientist, "default"), action)).toBe(false);
    }
    expect(can(roleIn(scientist, "pricing"), "clients")).toBe(false);
    expect(can(roleIn(scientist, "pricing"), "members")).toBe(false);
  });

  it("the stage role holds in every project, a membership can raise it in one", () => {
    expect(roleIn(viewerAdminOfChurn, "churn")).toBe("admin");
    expect(roleIn(viewerAdminOfChurn, "default")).toBe("viewer");
    // A project /me does not list (made since it answered): the stage role.
    expect(roleIn(viewerAdminOfChurn, "made-later")).toBe("viewer");
    expect(roleIn({ stage: "editor", projects: [] }, "anything")).toBe("editor");
    // Before /me answers there are no memberships: the stage role from the token.
    expect(roleIn({ stage: null, projects: [] }, "default")).toBeNull();
  });

  it("offers a control when some project allows it, and says where", () => {
    expect(bestRole(scientist)).toBe("editor");
    expect(bestRole(viewerAdminOfChurn)).toBe("admin");
    expect(bestRole({ stage: null, projects: [] })).toBeNull();
    expect(projectsAllowing(scientist, "create")).toEqual(["pricing"]);
    expect(projectsAllowing(scientist, "view")).toEqual(["pricing", "fraud"]);
    expect(projectsAllowing(viewerAdminOfChurn, "create")).toEqual(["churn"]);
    expect(projectsAllowing(viewerAdminOfChurn, "members")).toEqual(["churn"]);
  });

  it("names the project in a denied control's reason", () => {
    expect(deniedReason(roleIn(scientist, "fraud"), "lifecycle", "fraud")).toBe(
      "You have the viewer role in project fraud: only editors and admins can start and stop models.",
    );
    expect(deniedReason(roleIn(scientist, "default"), "edit", "default")).toBe(
      "You have no role in project default: only editors and admins can edit models.",
    );
    expect(deniedReason("editor", "members", "pricing")).toBe(
      "You have the editor role in project pricing: only its admins can manage its members.",
    );
    expect(deniedReason(roleIn(viewerAdminOfChurn, "churn"), "members", "churn")).toBeNull();
    // Projects are made by the stage's admins: a project admin is not enough.
    expect(deniedReason("editor", "createProject")).toBe("You have the editor role: only the stage's admins can create projects.");
    expect(deniedReason("admin", "createProject")).toBeNull();
  });

  it("leaves deleting a project and its quota to the stage's admins, whatever the role in the project", () => {
    // An admin of churn through membership only (the stage role is viewer): not enough to delete churn or lift its quota.
    expect(roleIn(viewerAdminOfChurn, "churn")).toBe("admin");
    expect(stageDeniedReason(viewerAdminOfChurn, "deleteProject", "churn")).toBe(
      "You have the admin role in project churn: only the stage's admins can delete projects.",
    );
    expect(stageDeniedReason(viewerAdminOfChurn, "setQuota", "churn")).toBe(
      "You have the admin role in project churn: only the stage's admins can change a project's quota.",
    );
    expect(stageDeniedReason(scientist, "createProject")).toBe("You have no role: only the stage's admins can create projects.");
    const stageAdmin = { stage: "admin" as const, projects: [] };
    for (const action of ["createProject", "deleteProject", "setQuota"] as const) {
      expect(stageDeniedReason(stageAdmin, action, "churn")).toBeNull();
    }
  });
});
