import pLimit, { type LimitFunction } from 'p-limit';
import { batchGet } from '../catalog/batch-get.js';
import type { Catalog } from '../catalog/client.js';
import { targetVersionOf } from '../catalog/effective-version.js';
import type { MountItem } from '../catalog/items.js';
import { type MountRef, mountKey } from '../catalog/keys.js';
import {
  displayMountPath,
  normaliseNamespace,
  parseMountPath,
} from '../catalog/mount-path.js';
import { OBSERVATION_RETENTION_MS } from '../generations/observation.js';
import { writeHeartbeat } from './heartbeat.js';
import {
  acknowledge,
  type Observation,
  recordStarts,
  releaseObservation,
  renewObservation,
} from './observations.js';

/**
 * What the reload callback is told about one mount whose generation moved.
 *
 * @example
 * const onReload = async (event: ReloadEvent) => {
 *   await restart(event.path, event.pluginName, event.pluginVersion, {
 *     signal: event.signal,
 *   });
 * };
 */
export interface ReloadEvent {
  mount: MountRef;
  /** The mount as Vault names it, e.g. `auth/oidc-custom/`. */
  path: string;
  /** The generation the worker now has to reach. */
  generation: number;
  /** The generation it last reached; several moves may lie between. */
  previousGeneration: number;
  /** The reload that set `generation`, when known. */
  reloadId?: string;
  pluginName: string;
  /** The version the mount is pinned to, "" when none. */
  pluginVersion: string;
  /** Aborted when the callback outlives its timeout or the watcher stops. */
  signal: AbortSignal;
}

/**
 * Restarts the plugin backend of one mount. Resolving counts as reloaded;
 * throwing, or running past the timeout, as failed with the message.
 *
 * @example
 * const onReload: ReloadCallback = ({ path }) => backends.get(path)?.restart();
 */
export type ReloadCallback = (event: ReloadEvent) => Promise<void> | void;

/**
 * Something the watcher did, for the worker's own log.
 *
 * @example
 * const onEvent = (event: WatcherEvent) => {
 *   if (event.type === 'failed') console.error(event.path, event.error);
 * };
 */
export type WatcherEvent =
  | { type: 'started'; path: string; namespace: string; generation: number }
  | {
      type: 'reloaded';
      path: string;
      namespace: string;
      generation: number;
      reloadId?: string;
      /** Whether this acknowledgement was written; false if one was already. */
      acknowledged: boolean;
    }
  | {
      type: 'failed';
      path: string;
      namespace: string;
      generation: number;
      reloadId?: string;
      error: string;
      acknowledged: boolean;
    }
  | { type: 'missing'; path: string; namespace: string }
  | {
      /** The callback for an earlier generation still runs past its timeout. */
      type: 'waiting';
      path: string;
      namespace: string;
      generation: number;
    }
  | {
      /** An acknowledgement could not be written; it is sent again. */
      type: 'acknowledge-failed';
      path: string;
      namespace: string;
      generation: number;
      error: string;
    }
  | { type: 'poll-failed'; error: string; retryInMs: number }
  | {
      type: 'polled';
      mounts: number;
      /** BatchGetItem requests this poll sent, retries of unprocessed keys included. */
      requests: number;
    };

/**
 * A mount to serve, in a namespace of its own.
 *
 * @example
 * const mount: WatchedMount = { path: 'auth/oidc/', namespace: 'team-b' };
 */
export interface WatchedMount {
  /** As Vault writes it: `custom-secrets/`, `auth/oidc/`. */
  path: string;
  /** "" or absent for the watcher's default namespace. */
  namespace?: string;
}

/**
 * How a watcher is set up; only the catalog, the worker id, the mounts and
 * the callback are required.
 *
 * @example
 * const options: WatcherOptions = {
 *   catalog: createCatalog(),
 *   workerId: `worker-${hostname()}`,
 *   mounts: ['custom-secrets/'],
 *   onReload: ({ path }) => restart(path),
 *   intervalMs: 2000,
 *   callbackTimeoutMs: 60_000,
 * };
 */
export interface WatcherOptions {
  catalog: Catalog;
  /** Unique per worker process; shown in the reload status. */
  workerId: string;
  /** The mounts to serve: paths in `namespace`, or mounts of any namespace. */
  mounts: (string | WatchedMount)[];
  /** The namespace of mounts given without one; "" for the root namespace. */
  namespace?: string;
  onReload: ReloadCallback;
  /** Time between polls; each wait varies by up to a fifth either way. */
  intervalMs?: number;
  /** How long one reload callback may run before it counts as failed. */
  callbackTimeoutMs?: number;
  /** The longest wait between polls while DynamoDB keeps failing. */
  maxBackoffMs?: number;
  /**
   * How long the worker counts as live after each heartbeat; it writes one
   * every third of this, so one lost write does not make it stale.
   */
  heartbeatTtlMs?: number;
  /** How many reload callbacks, for different mounts, may run at once. */
  concurrency?: number;
  onEvent?: (event: WatcherEvent) => void;
}

interface MountState {
  /** `namespace` + Vault path: unique across namespaces. */
  key: string;
  mount: MountRef;
  path: string;
  /** The generation last reached; undefined until the start is recorded. */
  generation?: number;
  /** The newest mount item a poll has read. */
  latest?: MountItem;
  /** The loop that reloads the mount until it reached `latest`. */
  driving?: Promise<void>;
  /** The callback, while it runs, even past its timeout. */
  callback?: Promise<void>;
  /** An acknowledgement DynamoDB did not take; sent again on later polls. */
  unacknowledged?: Observation;
  /** When the worker last wrote its observation of the mount. */
  observedAt?: number;
  renewing?: Promise<void>;
  /** The write that records the mount was dropped, while it runs. */
  releasing?: Promise<void>;
  missing?: boolean;
  removed?: boolean;
}

type CallbackOutcome =
  | { kind: 'done'; error: string }
  | { kind: 'timeout' }
  | { kind: 'stopped' };

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_CALLBACK_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const DEFAULT_CONCURRENCY = 8;

/** Observations are renewed once half their time to live has passed. */
const RENEW_AFTER_MS = OBSERVATION_RETENTION_MS / 2;

const messageOf = (thrown: unknown) => {
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return message === '' ? 'reload callback failed' : message;
};

const pause = (milliseconds: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Races `work` against `signal`: answers what `work` gave, or `onAbort` once
 * the signal aborted first. The listener goes when the race is over, so a
 * long-lived signal does not collect one per race.
 */
const unlessAborted = async <T, A>(
  work: Promise<T>,
  signal: AbortSignal,
  onAbort: A,
): Promise<T | A> => {
  if (signal.aborted) return onAbort;
  let listener = () => {};
  const abort = new Promise<A>((resolve) => {
    listener = () => resolve(onAbort);
    signal.addEventListener('abort', listener, { once: true });
  });
  try {
    return await Promise.race([work, abort]);
  } finally {
    signal.removeEventListener('abort', listener);
  }
};

/**
 * Watches the generations of a worker's mounts and reloads the plugin
 * backend when one moves.
 *
 * Each poll reads every mount's generation with batched key lookups (100 a
 * request, unprocessed keys asked for again). On the first poll of a mount
 * the worker records the generation it starts at without reloading, since a
 * fresh process already runs the newest backend. When a generation has
 * moved, the callback runs once for that mount, however many moves lay
 * between two polls, never twice at once for one mount; then the worker
 * acknowledges the generation it reached, or the error the callback gave. A
 * callback that fails or outlives its timeout is acknowledged as failed, and
 * the next move is tried again. A heartbeat keeps the worker live in the
 * reload status; once it stops, the status shows it as stale.
 *
 * @example
 * const watcher = new PluginWatcher({
 *   catalog: createCatalog(),
 *   workerId: 'worker-1',
 *   mounts: ['custom-secrets/', { path: 'auth/oidc/', namespace: 'team-b' }],
 *   onReload: async ({ path, signal }) => restartBackend(path, signal),
 * });
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await watcher.run(stop.signal);
 */
export class PluginWatcher {
  readonly #options: WatcherOptions;
  readonly #mounts = new Map<string, MountState>();
  /** Dropped mounts whose release is still to be written. */
  readonly #releases = new Map<string, MountState>();
  readonly #intervalMs: number;
  readonly #heartbeatTtlMs: number;
  readonly #limit: LimitFunction;
  readonly #startedAt = new Date();
  #heartbeatDueAt = 0;
  #heartbeatWritten = false;

  constructor(options: WatcherOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    // The heartbeat must outlast several polls, or a worker that is only
    // slow would flicker between live and stale.
    this.#heartbeatTtlMs =
      options.heartbeatTtlMs ?? Math.max(30_000, this.#intervalMs * 6);
    this.#limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
    for (const mount of options.mounts) {
      if (typeof mount === 'string') this.addMount(mount);
      else this.addMount(mount.path, mount.namespace);
    }
  }

  /**
   * Starts serving another mount, in `namespace` or the watcher's own. Its
   * start is recorded on the next poll.
   *
   * @throws MountPathError when the path or namespace cannot name a mount.
   */
  addMount(written: string, namespace?: string): void {
    const mount = this.#mountOf(written, namespace);
    const key = `${mount.namespace}${displayMountPath(mount)}`;
    if (this.#mounts.has(key)) return;
    this.#mounts.set(key, { key, mount, path: displayMountPath(mount) });
    this.#heartbeatDueAt = 0;
  }

  /**
   * Stops serving a mount. A reload already running for it finishes and is
   * acknowledged; then the worker records that it dropped the mount, and the
   * status stops waiting for it there.
   */
  removeMount(written: string, namespace?: string): void {
    const mount = this.#mountOf(written, namespace);
    const key = `${mount.namespace}${displayMountPath(mount)}`;
    const state = this.#mounts.get(key);
    if (!state) return;
    state.removed = true;
    this.#mounts.delete(key);
    if (state.generation !== undefined) this.#releases.set(key, state);
    this.#heartbeatDueAt = 0;
  }

  /** The mounts served, as namespace and Vault path: `team-b/auth/oidc/`. */
  get mounts(): string[] {
    return [...this.#mounts.keys()];
  }

  /**
   * Polls until `signal` aborts, then waits for the reloads in flight and
   * ends its heartbeat. A callback still running is told to stop through
   * its signal and is not acknowledged: the reload did not finish, and the
   * status shows the worker stale there. A failed poll is retried with
   * exponential backoff, without end: the worker recovers by itself once
   * DynamoDB answers again.
   */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let wait = this.#jittered(this.#intervalMs);
      try {
        await this.poll(signal);
        failures = 0;
      } catch (error) {
        failures++;
        const ceiling = this.#options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
        wait = this.#jittered(
          Math.min(ceiling, this.#intervalMs * 2 ** failures),
        );
        this.#emit({
          type: 'poll-failed',
          error: messageOf(error),
          retryInMs: Math.round(wait),
        });
      }
      await pause(wait, signal);
    }
    await this.settled();
    await this.#endHeartbeat();
  }

  /**
   * One poll: keeps the heartbeat fresh, reads every mount and starts the
   * reloads it calls for. Resolves once the reads and starts are done; the
   * reloads it started run on (see `settled`).
   */
  async poll(signal: AbortSignal = new AbortController().signal) {
    const states = [...this.#mounts.values()];
    let requests = 0;
    const [items] = await Promise.all([
      batchGet<MountItem>(
        this.#options.catalog,
        states.map((state) => mountKey(state.mount)),
        {
          attributes: [
            'generation',
            'reloadId',
            'pluginName',
            'entry',
            'versionHistory',
          ],
          // A worker may read a moment-old generation; it sees the new one
          // on its next poll, and the reads cost half as much.
          consistentRead: false,
          onRequest: () => {
            requests++;
          },
        },
      ),
      this.#heartbeat(),
    ]);
    const byKey = new Map(
      items.map((item) => [`${item.pk}\n${item.sk}`, item]),
    );
    const starts: { state: MountState; item: MountItem }[] = [];
    for (const state of states) {
      if (state.removed) continue;
      const key = mountKey(state.mount);
      const item = byKey.get(`${key.pk}\n${key.sk}`);
      if (!item) {
        if (!state.missing) {
          this.#emit({
            type: 'missing',
            path: state.path,
            namespace: state.mount.namespace,
          });
        }
        state.missing = true;
        continue;
      }
      state.missing = false;
      if (state.generation === undefined) {
        // A mount dropped and taken up again starts once its release is
        // written, so the release cannot land after the start.
        if (!this.#releases.has(state.key)) starts.push({ state, item });
        continue;
      }
      if (item.generation > (state.latest?.generation ?? -1)) {
        state.latest = item;
      }
      if (item.generation > state.generation && !state.driving) {
        state.driving = this.#drive(state, signal).finally(() => {
          state.driving = undefined;
        });
      }
    }
    this.#retryAcknowledgements();
    this.#renewObservations();
    this.#writeReleases();
    try {
      if (starts.length > 0) await this.#start(starts);
    } finally {
      this.#emit({ type: 'polled', mounts: states.length, requests });
    }
  }

  /** Waits for every reload in flight, for tests and clean shutdowns. */
  async settled(): Promise<void> {
    const states = [...this.#mounts.values(), ...this.#releases.values()];
    await Promise.allSettled(states.map((state) => state.driving));
  }

  #mountOf(written: string, namespace?: string): MountRef {
    const input = parseMountPath(written);
    return {
      namespace: normaliseNamespace(namespace ?? this.#options.namespace ?? ''),
      kind: input.kind,
      path: input.path,
    };
  }

  async #heartbeat() {
    if (Date.now() < this.#heartbeatDueAt) return;
    const at = new Date();
    await writeHeartbeat(this.#options.catalog, {
      workerId: this.#options.workerId,
      mounts: this.mounts,
      startedAt: this.#startedAt,
      ttlMs: this.#heartbeatTtlMs,
      at,
    });
    this.#heartbeatDueAt = at.getTime() + this.#heartbeatTtlMs / 3;
    this.#heartbeatWritten = true;
  }

  /**
   * A worker that stops says so: its heartbeat runs out at once, so the
   * status shows it stale right away instead of pending until the time to
   * live has passed. A worker that dies without stopping gets there too,
   * once its last heartbeat runs out.
   */
  async #endHeartbeat() {
    if (!this.#heartbeatWritten) return;
    try {
      await writeHeartbeat(this.#options.catalog, {
        workerId: this.#options.workerId,
        mounts: this.mounts,
        startedAt: this.#startedAt,
        ttlMs: 0,
        at: new Date(),
      });
    } catch {
      // Then the heartbeat runs out by itself.
    }
  }

  /** Records where newly watched mounts start, 100 to a transaction. */
  async #start(starts: { state: MountState; item: MountItem }[]) {
    const at = new Date();
    const reached = await recordStarts(
      this.#options.catalog,
      starts.map(({ state, item }) => ({
        workerId: this.#options.workerId,
        mount: state.mount,
        generation: item.generation,
        reloadId: item.reloadId,
        error: '',
        at,
      })),
    );
    starts.forEach(({ state, item }, index) => {
      const generation = reached[index] ?? item.generation;
      state.generation = generation;
      state.latest = item;
      state.observedAt = at.getTime();
      this.#emit({
        type: 'started',
        path: state.path,
        namespace: state.mount.namespace,
        generation,
      });
    });
  }

  /** Reloads the mount until it has reached the newest generation read. */
  async #drive(state: MountState, stopping: AbortSignal) {
    while (!stopping.aborted && !state.removed) {
      const item = state.latest;
      if (
        !item ||
        state.generation === undefined ||
        item.generation <= state.generation
      ) {
        return;
      }
      // Never two callbacks at once for one mount: one that outlived its
      // timeout is waited for before the next generation is tried.
      if (state.callback) {
        this.#emit({
          type: 'waiting',
          path: state.path,
          namespace: state.mount.namespace,
          generation: item.generation,
        });
        await unlessAborted(state.callback, stopping, undefined);
        continue;
      }
      const finished = await this.#limit(() =>
        this.#reloadOnce(state, item, stopping),
      );
      if (!finished) return;
    }
  }

  /** @returns false when the watcher stopped before the callback finished. */
  async #reloadOnce(
    state: MountState,
    item: MountItem,
    stopping: AbortSignal,
  ): Promise<boolean> {
    if (stopping.aborted) return false;
    const timeoutMs =
      this.#options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = AbortSignal.any([stopping, timeout.signal]);
    const previousGeneration = state.generation ?? item.generation;
    const running = Promise.resolve().then(() =>
      this.#options.onReload({
        mount: state.mount,
        path: state.path,
        generation: item.generation,
        previousGeneration,
        reloadId: item.reloadId,
        pluginName: item.pluginName,
        // A pin can make the version to run differ from the entry's own.
        pluginVersion:
          targetVersionOf(item)?.version ??
          String(item.entry?.plugin_version ?? ''),
        signal,
      }),
    );
    const settled = running.then(
      () => {},
      () => {},
    );
    state.callback = settled;
    void settled.then(() => {
      if (state.callback === settled) state.callback = undefined;
    });
    const outcome: CallbackOutcome = await unlessAborted(
      unlessAborted(
        running.then(
          (): CallbackOutcome => ({ kind: 'done', error: '' }),
          (thrown: unknown): CallbackOutcome => ({
            kind: 'done',
            error: messageOf(thrown),
          }),
        ),
        stopping,
        { kind: 'stopped' } as CallbackOutcome,
      ),
      timeout.signal,
      { kind: 'timeout' } as CallbackOutcome,
    );
    clearTimeout(timer);
    // A callback that gave up because the worker is stopping did not fail:
    // the reload never finished, and the status shows the worker stale.
    const succeeded = outcome.kind === 'done' && outcome.error === '';
    if (stopping.aborted && !succeeded) return false;
    if (outcome.kind === 'stopped') return false;
    const error =
      outcome.kind === 'timeout'
        ? `reload callback timed out after ${timeoutMs} ms`
        : outcome.error;
    // The generation counts as reached either way: a failed one is not
    // tried again, the next move is.
    state.generation = item.generation;
    const acknowledged = await this.#acknowledge(state, {
      workerId: this.#options.workerId,
      mount: state.mount,
      generation: item.generation,
      reloadId: item.reloadId,
      error,
      at: new Date(),
    });
    const common = {
      path: state.path,
      namespace: state.mount.namespace,
      generation: item.generation,
      reloadId: item.reloadId,
      acknowledged,
    };
    this.#emit(
      error === ''
        ? { type: 'reloaded', ...common }
        : { type: 'failed', ...common, error },
    );
    return true;
  }

  /**
   * Writes an acknowledgement; one DynamoDB does not take is kept and sent
   * again on later polls, until a newer one takes its place.
   */
  async #acknowledge(state: MountState, observation: Observation) {
    state.unacknowledged = undefined;
    try {
      const written = await acknowledge(this.#options.catalog, observation);
      state.observedAt = observation.at.getTime();
      return written;
    } catch (error) {
      state.unacknowledged = observation;
      this.#emit({
        type: 'acknowledge-failed',
        path: state.path,
        namespace: state.mount.namespace,
        generation: observation.generation,
        error: messageOf(error),
      });
      return false;
    }
  }

  #retryAcknowledgements() {
    for (const state of this.#mounts.values()) {
      const pending = state.unacknowledged;
      if (!pending || state.driving) continue;
      state.driving = this.#acknowledge(state, pending)
        .then(() => {})
        .finally(() => {
          state.driving = undefined;
        });
    }
  }

  #renewObservations() {
    const before = Date.now() - RENEW_AFTER_MS;
    for (const state of this.#mounts.values()) {
      if (state.renewing || state.observedAt === undefined) continue;
      if (state.observedAt > before) continue;
      const at = new Date();
      state.renewing = renewObservation(
        this.#options.catalog,
        this.#options.workerId,
        state.mount,
        at,
      )
        .then(() => {
          state.observedAt = at.getTime();
        })
        // Tried again on the next poll; the observation has days left.
        .catch(() => {})
        .finally(() => {
          state.renewing = undefined;
        });
    }
  }

  #writeReleases() {
    for (const [key, state] of this.#releases) {
      if (state.driving || state.releasing) continue;
      if (this.#mounts.has(key)) {
        // Taken up again before the release was written: nothing to release.
        this.#releases.delete(key);
        continue;
      }
      state.releasing = releaseObservation(
        this.#options.catalog,
        this.#options.workerId,
        state.mount,
        new Date(),
      )
        .then(() => {
          this.#releases.delete(key);
        })
        // Kept, and written on a later poll.
        .catch(() => {})
        .finally(() => {
          state.releasing = undefined;
        });
    }
  }

  #emit(event: WatcherEvent) {
    this.#options.onEvent?.(event);
  }

  #jittered(milliseconds: number) {
    return milliseconds * (0.8 + Math.random() * 0.4);
  }
}
