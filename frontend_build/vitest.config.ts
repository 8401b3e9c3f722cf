/** Unit tests: plain TypeScript modules (API client, validation, formatting) in Node, no DOM; a component's markup through react-dom/server. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "node",
  },
});
