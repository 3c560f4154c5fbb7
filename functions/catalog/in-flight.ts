/**
 * Maps `items` through `run` with at most `limit` calls in flight, keeping
 * the order of the results. DynamoDB work is sent this way so one request
 * neither waits on each call in turn nor opens hundreds of connections.
 */
export const mapInFlight = async <T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T, index);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, lane),
  );
  return results;
};
