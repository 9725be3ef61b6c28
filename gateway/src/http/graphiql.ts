import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** GraphiQL's UMD build and React come from npm packages, so the page works without internet access. */
const ASSETS: Record<string, { file: () => string; type: string }> = {
  'react.production.min.js': { file: () => packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.production.min.js': { file: () => packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.min.js': { file: () => packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.min.css': { file: () => packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
};

/** Literal require.resolve calls, so the gateway's dependency check (tests/platform/workspaces.test.ts) sees each package. */
const MANIFESTS = {
  react: () => require.resolve('react/package.json'),
  'react-dom': () => require.resolve('react-dom/package.json'),
  graphiql: () => require.resolve('graphiql/package.json'),
};

function packageFile(pkg: keyof typeof MANIFESTS, file: string): string {
  return join(dirname(MANIFESTS[pkg]()), file);
}

const page = (graphqlPath: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchyard GraphiQL</title>
<link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
</head>
<body style="margin:0">
<div id="graphiql" style="height:100vh" data-endpoint="${graphqlPath}">Loading GraphiQL…</div>
<script src="/graphiql/assets/react.production.min.js"></script>
<script src="/graphiql/assets/react-dom.production.min.js"></script>
<script src="/graphiql/assets/graphiql.min.js"></script>
<script src="/graphiql/assets/boot.js"></script>
</body>
</html>
`;

// Kept out of the page so the Content-Security-Policy needs no 'unsafe-inline' for scripts.
const BOOT = `(function () {
  var root = document.getElementById('graphiql');
  var url = new URL(root.dataset.endpoint, window.location.href).href;
  // ?query=... opens GraphiQL on that operation, so a query can be shared as a link.
  var shared = new URLSearchParams(window.location.search).get('query');
  var props = { fetcher: GraphiQL.createFetcher({ url: url }), defaultEditorToolsVisibility: true };
  if (shared) props.query = shared;
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
`;

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:";

export function registerGraphiql(app: FastifyInstance, graphqlPath: string): void {
  const cache = new Map<string, Buffer>();
  const html = page(graphqlPath);
  app.get('/graphiql', (_request, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(html));
  app.get('/graphiql/assets/boot.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(BOOT));
  for (const [name, asset] of Object.entries(ASSETS)) {
    app.get(`/graphiql/assets/${name}`, (_request, reply) => {
      let body = cache.get(name);
      if (!body) cache.set(name, (body = readFileSync(asset.file())));
      return reply.type(`${asset.type}; charset=utf-8`).header('cache-control', 'public, max-age=86400').send(body);
    });
  }
}
