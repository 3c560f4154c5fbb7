import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  joinNamespaces,
  MountPathError,
  normaliseNamespace,
} from '../catalog/mount-path.js';
import { InvalidRequestError } from './errors.js';

/** What the API makes of an HTTP request before routing it. */
export interface VaultRequest {
  method: string;
  /** The path inside the namespace, without `/v1/` or slashes at its ends. */
  path: string;
  /** "" for the root namespace, else `team-b/`. */
  namespace: string;
  query: Record<string, string | undefined>;
  token?: string;
  requestId: string;
}

/**
 * The first path segments that begin a route of ours. Whatever comes before
 * them in `/v1/team-b/sys/...` is a namespace, as Vault reads such paths.
 */
const ROUTE_ROOTS = new Set(['sys', 'auth']);

/**
 * Reads the method, namespace, path and token of an API Gateway event. The
 * namespace is the `X-Vault-Namespace` header joined with any namespace
 * written before `sys/` in the path. Headers were lower-cased beforehand.
 */
export const readVaultRequest = (
  event: APIGatewayProxyEventV2,
): VaultRequest => {
  const headers = event.headers ?? {};
  const segments = decodePath(event.rawPath ?? event.requestContext.http.path)
    .replace(/^\/+v1\/*/, '')
    .split('/')
    .filter((segment) => segment !== '');
  const rootAt = segments.findIndex((segment) => ROUTE_ROOTS.has(segment));
  const prefix = rootAt > 0 ? segments.slice(0, rootAt).join('/') : '';
  let namespace: string;
  try {
    namespace = joinNamespaces(
      normaliseNamespace(headers['x-vault-namespace'] ?? ''),
      prefix,
    );
  } catch (error) {
    if (error instanceof MountPathError) {
      throw new InvalidRequestError(error.message);
    }
    throw error;
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: segments.slice(Math.max(rootAt, 0)).join('/'),
    namespace,
    query: event.queryStringParameters ?? {},
    token: tokenOf(headers),
    requestId: event.requestContext.requestId,
  };
};

const decodePath = (path: string) => {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new InvalidRequestError('the request path is not valid URL encoding');
  }
};

/** `X-Vault-Token`, or a bearer token in `Authorization`, as Vault takes. */
const tokenOf = (headers: Record<string, string | undefined>) => {
  const vaultToken = headers['x-vault-token']?.trim();
  if (vaultToken) return vaultToken;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return bearer?.[1]?.trim() || undefined;
};
