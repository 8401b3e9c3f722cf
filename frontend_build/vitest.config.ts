/** Unit tests: plain TypeScript modules (API client, validation, formatting) in Node, no DOM. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
