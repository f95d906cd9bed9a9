import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the UI with hot reload and sends the API to a server running
// on its default HTTP address (or SWITCHBOARD_HTTP).
const server = process.env.SWITCHBOARD_HTTP ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: server, ws: true },
    },
  },
  build: {
    chunkSizeWarningLimit: 2000,
  },
});
