import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Acl } from '../catalog/acl/acl.js';
import type { Catalog } from '../catalog/client.js';
import type { TokenItem, TokenStore } from '../catalog/tokens.js';
import type { VaultRequest } from './vault-request.js';

/**
 * What one request did, gathered as it runs and written as the request's
 * one log line. Never holds a token.
 */
export interface RequestLog {
  route?: string;
  namespace?: string;
  plugin?: string;
  mounts?: string[];
  reloadId?: string;
  generationsMoved?: number;
  /** The caller's policies: who acted, without naming the token. */
  policies?: string[];
}

/** Who is calling, once the token is checked and the path allowed. */
export interface CallerAuth {
  token: TokenItem;
  acl: Acl;
  /** The catalog's tokens, for routes that look up or make others. */
  tokens: TokenStore;
}

export interface RouteInput {
  request: VaultRequest;
  params: Record<string, string>;
  body: unknown;
  catalog: Catalog;
  log: RequestLog;
  /** Absent only on routes that take no token. */
  auth?: CallerAuth;
}

export type RouteHandler = (
  input: RouteInput,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  /** A short name for logs. */
  name: string;
  /**
   * Vault path inside a namespace: `:name` takes one segment, `*name` the
   * rest of the path.
   */
  pattern: string;
  /** Answered without a token, like Vault's `sys/health`. */
  unauthenticated?: boolean;
  /**
   * Asks for `sudo` on the path besides the capability of the method.
   * Vault's own root-protected paths (`sys/auth/:path`,
   * `sys/plugins/catalog/:type/:name` and the others) need it whether a
   * route says so or not.
   */
  sudo?: boolean;
  /**
   * The path whose policy rules govern this route, for an older spelling
   * of an endpoint that must be governed like the current one. Without it
   * the rules of the request's own path apply.
   */
  aclPath?: string;
  /**
   * Says whether the item a PUT or POST writes exists yet, for paths where
   * Vault asks for `create` on a new item and `update` on an existing one.
   * Without it a write needs `update`, as on most of Vault's paths.
   */
  exists?: (
    input: Pick<RouteInput, 'request' | 'params' | 'catalog'>,
  ) => Promise<boolean>;
  methods: Partial<Record<string, RouteHandler>>;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

const compile = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('/')
      .map((segment) => {
        if (segment.startsWith(':')) return `(?<${segment.slice(1)}>[^/]+)`;
        if (segment.startsWith('*')) return `(?<${segment.slice(1)}>.+)`;
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/')}$`,
  );

/**
 * A route table. Routes are tried in order, so an exact path is listed
 * before a pattern that would also match it.
 */
export const createRouter = (routes: Route[]) => {
  const compiled = routes.map((route) => ({
    route,
    pattern: compile(route.pattern),
  }));
  return (path: string): RouteMatch | undefined => {
    for (const { route, pattern } of compiled) {
      const match = pattern.exec(path);
      if (match) return { route, params: { ...match.groups } };
    }
    return undefined;
  };
};
