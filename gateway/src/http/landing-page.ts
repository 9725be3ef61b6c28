/** Apollo Sandbox's embeddable build, from Apollo's CDN: the one part of the gateway that needs the internet. */
const SANDBOX_SCRIPT = 'https://embeddable-sandbox.cdn.apollographql.com/_latest/embeddable-sandbox.umd.production.min.js';

/** A browser navigating to the GraphQL path asks for HTML first; GraphQL clients never do. */
export function wantsLandingPage(accept: string | undefined): boolean {
  return typeof accept === 'string' && accept.toLowerCase().includes('text/html');
}

/**
 * Apollo Sandbox embedded on the GraphQL path. Offline (or behind a proxy that blocks Apollo's CDN) the
 * script never loads, so the page says so and points to the gateway's own GraphiQL, which needs nothing
 * from outside.
 */
export function landingPage(graphqlPath: string, graphiql: boolean): string {
  const fallback = graphiql
    ? `Apollo Sandbox cannot be loaded: it comes from Apollo's CDN, which this browser cannot reach. Use <a href="/graphiql">GraphiQL at /graphiql</a>, served by the gateway itself.`
    : `Apollo Sandbox cannot be loaded: it comes from Apollo's CDN, which this browser cannot reach.`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Switchyard</title></head>
<body style="margin:0">
<div id="sandbox" style="height:100vh"></div>
<p id="offline" hidden style="font-family:sans-serif;margin:2em">${fallback}</p>
<script>
function showOffline() { document.getElementById('offline').hidden = false; }
</script>
<script src="${SANDBOX_SCRIPT}" onerror="showOffline()"></script>
<script>
if (window.EmbeddedSandbox) {
  new window.EmbeddedSandbox({ target: '#sandbox', initialEndpoint: new URL(${JSON.stringify(graphqlPath)}, location.href).href, includeCookies: false });
} else {
  showOffline();
}
</script>
</body>
</html>
`;
}
