/**
 * What a scenario is, and the running platform it talks to: `npm start`'s gateway, development issuer and
 * trace store, found through the same env vars npm start reads (GATEWAY_PORT, ISSUER_PORT, TRACES_PORT).
 */
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import { devToken, platformUrls } from '../scripts/trace-request';

/** What one check saw: a line for `happened`, whether that is what it expected, and any detail to show. */
export interface Outcome {
  happened: string;
  pass: boolean;
  /** Printed under `happened`, indented (a waterfall, a matrix). */
  detail?: string;
  /** Not run, and why (a tool it needs is missing); neither a pass nor a failure. */
  skipped?: boolean;
}

export interface Check {
  title: string;
  does: string;
  expects: string;
  /** One line on what the result means and where to look next. */
  readIt: string;
  run(platform: Platform): Promise<Outcome>;
}

export interface Scenario {
  /** What `npm run scenarios -- <name>` runs. */
  name: string;
  title: string;
  checks: Check[];
}

export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  variables?: Record<string, unknown>;
  /** Where the request comes from: a fresh client address (see Platform.freshClient). */
  via?: Dispatcher;
}

export class Platform {
  readonly urls = platformUrls();
  private loopbackAliases?: boolean;

  async graphql(query: string, options: RequestOptions = {}): Promise<Answer> {
    const res = await fetch(this.urls.graphql, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      body: JSON.stringify({ query, variables: options.variables }),
      // @ts-expect-error undici's fetch takes a dispatcher; the DOM's RequestInit type does not know it
      dispatcher: options.via,
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, headers: res.headers, body };
  }

  /** A token from the development issuer, as `npm run token` gets one. */
  token(sub: string, scope = ''): Promise<string> {
    return devToken(this.urls.issuer, sub, scope);
  }

  /**
   * A client with an address of its own, so a rate-limit scenario starts from a full anonymous budget
   * however often it runs: anonymous clients are counted by address, and on Linux all of 127.0.0.0/8 is
   * this machine. Elsewhere (macOS has only 127.0.0.1) undefined: requests come from 127.0.0.1.
   */
  async freshClient(): Promise<Dispatcher | undefined> {
    const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    this.loopbackAliases ??= await new Promise<boolean>((resolve) => {
      const { hostname, port } = new URL(this.urls.graphql);
      const socket = connect({ host: hostname, port: Number(port), localAddress: address });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    return this.loopbackAliases ? new Agent({ localAddress: address }) : undefined;
  }
}

/** A GraphQL error's code, message and extensions in one line: what a person reads first. */
export function describeError(error: { message?: string; extensions?: Record<string, unknown> } | undefined): string {
  if (!error) return 'no error';
  const { code, ...rest } = error.extensions ?? {};
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${String(code)} "${error.message}"${extra}`;
}

export const json = (value: unknown) => JSON.stringify(value);
