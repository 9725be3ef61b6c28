import { connect } from 'node:net';
import { createHttpServer, listen } from './server';
import { HttpError } from './http';
import { createLogger } from './logging';

function testServer() {
  const app = createHttpServer({ logger: createLogger('test', 'silent'), bodyLimitBytes: 100 });
  app.post('/echo', async (request) => ({ got: request.body }));
  app.get('/limited', async () => {
    throw new HttpError(429, 'too many requests', 'RATE_LIMITED', { 'retry-after': '7' });
  });
  app.get('/bug', async () => {
    throw new Error('secret detail at db.ts:42');
  });
  return app;
}

describe('the shared HTTP edge', () => {
  const app = testServer();
  afterAll(() => app.close());

  it('echoes a well-formed x-request-id, even on a 404, and makes one up for a malformed one', async () => {
    const given = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'abc-123' } });
    expect(given.statusCode).toBe(404);
    expect(given.headers['x-request-id']).toBe('abc-123');
    expect(given.json()).toEqual({ errors: [{ message: 'no route for GET /nowhere', extensions: { code: 'NOT_FOUND' } }] });
    const made = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'has spaces in it' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(200) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ errors: [{ message: 'request body exceeds 100 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('answers malformed JSON with 400 BAD_REQUEST and an unsupported type with 415', async () => {
    const bad = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(bad.json().errors[0].message).toMatch(/^malformed JSON body: /);
    const xml = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('sends an HttpError with its status, code and headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/limited' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json()).toEqual({ errors: [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED' } }] });
  });

  it('hides an unexpected error behind 500 internal server error', async () => {
    const res = await app.inject({ method: 'GET', url: '/bug' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ errors: [{ message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });
});

describe('repeated singleton headers', () => {
  const app = testServer();
  let url: URL;
  beforeAll(async () => {
    url = new URL((await listen(app, { host: '127.0.0.1', port: 0 })).url);
  });
  afterAll(() => app.close());

  /** Writes a request byte by byte (no client sends repeated lines) and reads the status line and body. */
  function rawRequest(head: string, body = ''): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve({ status: Number(received.slice(9, 12)), body: JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) }));
      socket.end(`POST /echo HTTP/1.1\r\nConnection: close\r\nContent-Length: ${body.length}\r\n${head}\r\n${body}`);
    });
  }

  it.each([
    ['Host given twice', 'Host: a\r\nHost: b\r\nContent-Type: application/json\r\n', 'host'],
    ['Host given twice with one value', 'Host: a\r\nhost: a\r\nContent-Type: application/json\r\n', 'host'],
    ['Authorization given twice', 'Host: a\r\nAuthorization: Bearer one\r\nContent-Type: application/json\r\nAuthorization: Bearer two\r\n', 'authorization'],
    ['Proxy-Authorization given twice', 'Host: a\r\nProxy-Authorization: Basic a\r\nProxy-Authorization: Basic b\r\nContent-Type: application/json\r\n', 'proxy-authorization'],
    ['Content-Type given twice', 'Host: a\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n', 'content-type'],
  ])('%s is refused with 400 before the body is read: Node would keep the first, a proxy may have read the last', async (_, head, name) => {
    expect(await rawRequest(head, '{}')).toEqual({ status: 400, body: { errors: [{ message: `the ${name} header is given more than once`, extensions: { code: 'BAD_REQUEST' } }] } });
  });

  it('list fields given twice (Accept, Cookie) are read as one list, and the request is served', async () => {
    expect(await rawRequest('Host: a\r\nAccept: application/json\r\nAccept: */*\r\nCookie: a=1\r\nCookie: b=2\r\nContent-Type: application/json\r\n', '{"a":1}')).toEqual({
      status: 200,
      body: { got: { a: 1 } },
    });
  });
});

describe('draining', () => {
  it('lets a request in flight finish, then stops; new requests get 503 meanwhile', async () => {
    const app = createHttpServer({ logger: createLogger('test', 'silent'), bodyLimitBytes: 100 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const started = new Promise<void>((r) => (arrived = r));
    app.get('/slow', async () => {
      arrived();
      await held;
      return { finished: true };
    });
    const server = await listen(app, { host: '127.0.0.1', port: 0, drainMs: 5000 });
    const inFlight = fetch(`${server.url}/slow`);
    await started;
    const closed = server.close();
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await closed;
    await expect(fetch(`${server.url}/slow`)).rejects.toThrow();
  });
});
