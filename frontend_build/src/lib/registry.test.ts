import { describe, expect, it } from "vitest";
import { validateCredentials } from "./registry";

describe("registry credentials", () => {
  it("need both a user name and a password, within the API's lengths", () => {
    expect(validateCredentials("robot$pull", "s3cret")).toEqual({});
    expect(validateCredentials("  ", "")).toEqual({
      username: "Enter the registry's user name.",
      password: "Enter the password or access token.",
    });
    expect(validateCredentials("u".repeat(257), "p".repeat(4097))).toEqual({
      username: "Use at most 256 characters.",
      password: "Use at most 4096 characters.",
    });
    // The password goes as typed: spaces are part of it, and characters are counted as the API counts them.
    expect(validateCredentials("u", " ")).toEqual({});
    expect(validateCredentials("u".repeat(256), "🔑".repeat(4096))).toEqual({});
  });
});
