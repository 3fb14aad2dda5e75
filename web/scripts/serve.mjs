// A tiny static server for dist/ (no dependencies):
//   node scripts/serve.mjs [PORT] [HOST]     default 8080 127.0.0.1
// The page's origin (http://HOST:PORT) must be in the gateway's
// CORS_ALLOWED_ORIGINS. The browser test imports serve() from here.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".wasm": "application/wasm",
};

/** Serves `root` on host:port; resolves to the listening server. */
export function serve(root, port, host = "127.0.0.1") {
  root = normalize(`${root}/`);
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(root) || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      response.end(request.method === "HEAD" ? undefined : body);
    } catch {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL("../dist/", import.meta.url));
  const port = Number(process.argv[2] ?? 8080);
  const host = process.argv[3] ?? "127.0.0.1";
  await serve(root, port, host);
  console.log(`serving ${root} at http://${host}:${port}/ — add this origin to CORS_ALLOWED_ORIGINS;`);
  console.log(`open http://${host}:${port}/?gateway=http://localhost:50051`);
}
