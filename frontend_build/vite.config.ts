/**
 * Vite build of the console. The output in dist/ is a static site with relative asset URLs, so the
 * same files work at "/" in local mode and behind CloudFront; runtime settings come from
 * /config.json. `npm run dev` proxies /api and /config.json to a running local mode
 * (KRAKEN_DEV_BACKEND, default http://127.0.0.1:8000).
 */
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const backend = process.env.KRAKEN_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: false,
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/config.json": { target: backend, changeOrigin: false },
    },
  },
});
