import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Catalog } from '../catalog/client.js';
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
}

export interface RouteInput {
  request: VaultRequest;
  params: Record<string, string>;
  body: unknown;
  catalog: Catalog;
  log: RequestLog;
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
