import type { RunningApi } from '../support/api.js';

/** Headers that put a request in a namespace; none for the root one. */
export const inNamespace = (namespace?: string): Record<string, string> =>
  namespace ? { 'X-Vault-Namespace': namespace } : {};

/** Writes a policy with the root token, and checks that it was taken. */
export const writePolicy = async (
  api: RunningApi,
  name: string,
  policy: string,
  namespace?: string,
) => {
  const answer = await api.call('PUT', `/v1/sys/policies/acl/${name}`, {
    body: { policy },
    headers: inNamespace(namespace),
  });
  if (answer.status !== 204) {
    throw new Error(`writing policy ${name}: ${answer.status} ${answer.text}`);
  }
};

/**
 * Creates a token with the root token (or `as`), returning the token and
 * the whole answer.
 */
export const createToken = async (
  api: RunningApi,
  body: Record<string, unknown>,
  options: { namespace?: string; as?: string } = {},
) => {
  const answer = await api.call('POST', '/v1/auth/token/create', {
    body,
    headers: inNamespace(options.namespace),
    token: options.as,
  });
  const auth = answer.body.auth as
    | { client_token: string; accessor: string; policies: string[] }
    | null
    | undefined;
  return { answer, token: auth?.client_token ?? '', auth };
};

/** A reload by mounts, as a given token, in a given namespace. */
export const reloadMounts = (
  api: RunningApi,
  token: string,
  mounts: string[],
  namespace?: string,
) =>
  api.call('PUT', '/v1/sys/plugins/reload/backend', {
    body: { mounts },
    token,
    headers: inNamespace(namespace),
  });

export const pause = (milliseconds: number) =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Records the operations a catalog client sends to DynamoDB, at the last
 * step before the wire, so a retry counts again.
 */
export const recordOperations = (catalog: RunningApi['catalog']) => {
  const sent: string[] = [];
  catalog.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordAuthOperations' },
  );
  return sent;
};
