import type { Catalog } from '../../functions/catalog/client.js';

/**
 * Counts the HTTP requests a catalog client sends to DynamoDB, by operation,
 * with an SDK middleware at the last step before the wire: a retry counts
 * again, as it costs a round trip again.
 */
export const countRequests = (catalog: Catalog) => {
  const sent: string[] = [];
  catalog.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countCatalogRequests' },
  );
  return {
    /** The operations sent since the last reset, in order. */
    get sent() {
      return [...sent];
    },
    reset() {
      sent.length = 0;
    },
  };
};
