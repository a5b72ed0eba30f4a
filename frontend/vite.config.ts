/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";
import { VitePWA } from "vite-plugin-pwa";

// Django (WhiteNoise) serves dist/ at the site root: /assets/*, /sw.js, /manifest.webmanifest,
// and index.html for every other non-API path. Hence the absolute base "/".
export default defineConfig({
  base: "/",
  plugins: [
    preact(),
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      // We register the worker ourselves (src/lib/sw-register.ts) so updates wait for the person.
      injectRegister: false,
      registerType: "prompt",
      manifestFilename: "manifest.webmanifest",
      // public/ files are already matched by globPatterns; listing them again duplicates entries.
      includeAssets: [],
      includeManifestIcons: false,
      injectManifest: {
        globPatterns: ["**/*.{js,css,html,svg,png}"],
      },
      manifest: {
        name: "Co-Response",
        short_name: "Co-Response",
        description: "Field app for police and mental-health co-response teams",
        start_url: "/",
        scope: "/",
        display: "standalone",
        orientation: "any",
        background_color: "#ffffff",
        theme_color: "#0b4f6c",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
          { src: "/icons/icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" },
        ],
      },
    }),
  ],
  build: {
    target: "es2022",
    sourcemap: true,
  },
  server: {
    // `npm run dev` against a local Django on :8000.
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/admin": "http://127.0.0.1:8000",
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    setupFiles: ["src/test/setup.ts"],
    watch: false,
  },
});
