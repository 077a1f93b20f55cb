import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "happy-dom",
    include: ["tests/js/**/*.test.js", "js/**/*.test.js"],
    restoreMocks: true,
  },
});
