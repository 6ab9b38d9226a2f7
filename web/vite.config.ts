// Two entries, no HTML: the app writes each page's shell itself (with its settings) and finds the built files
// through the manifest, as Vite's backend-integration guide describes.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "/ui/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: { app: "src/main.tsx", graphiql: "src/graphiql.tsx" },
    },
  },
});
