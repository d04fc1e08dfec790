import { defineConfig } from "vite";

// The bundle is served by the plugin's app at <airflow>/mlplat/, so asset URLs are relative.
// Two pages: the canvas (index.html, at /mlplat/) and the resource page (resources.html, at /mlplat/resources).
export default defineConfig({
  base: "./",
  build: {
    outDir: "../airflow_mlplat/ui/static",
    emptyOutDir: true,
    assetsDir: "assets",
    rollupOptions: {
      input: { index: "index.html", resources: "resources.html" },
    },
  },
});
