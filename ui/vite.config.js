import { defineConfig } from "vite";

// The bundle is served by the plugin's app at <airflow>/mlplat/, so asset URLs are relative.
export default defineConfig({
  base: "./",
  build: {
    outDir: "../airflow_mlplat/ui/static",
    emptyOutDir: true,
    assetsDir: "assets",
  },
});
