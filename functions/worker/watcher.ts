import { batchGet } from '../catalog/batch-get.js';
import type { Catalog } from '../catalog/client.js';
import type { MountItem } from '../catalog/items.js';
import { type MountRef, mountKey } from '../catalog/keys.js';
import {
  displayMountPath,
  normaliseNamespace,
  parseMountPath,
} from '../catalog/mount-path.js';
import { acknowledge, recordStart } from './observations.js';

/** What the reload callback is told about one mount whose generation moved. */
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

export type ReloadCallback = (event: ReloadEvent) => Promise<void> | void;

/** Something the watcher did, for the worker's own log. */
export type WatcherEvent =
  | { type: 'started'; path: string; generation: number }
  | { type: 'reloaded'; path: string; generation: number; reloadId?: string }
  | { type: 'failed'; path: string; generation: number; error: string }
  | { type: 'missing'; path: string }
  | { type: 'poll-failed'; error: string; retryInMs: number };

export interface WatcherOptions {
  catalog: Catalog;
  /** Unique per worker process; shown in the reload status. */
  workerId: string;
  /** Mount paths as Vault writes them: `custom-secrets/`, `auth/oidc/`. */
  mounts: string[];
  /** The namespace of `mounts`; "" or absent for the root namespace. */
  namespace?: string;
  onReload: ReloadCallback;
  /** Time between polls; each wait varies by up to a fifth either way. */
  intervalMs?: number;
  /** How long one reload callback may run before it counts as failed. */
  callbackTimeoutMs?: number;
  /** The longest wait between polls while DynamoDB keeps failing. */
  maxBackoffMs?: number;
  onEvent?: (event: WatcherEvent) => void;
}

interface MountState {
  mount: MountRef;
  path: string;
  /** The generation last reached; undefined before the first poll. */
  generation?: number;
  reloading?: Promise<void>;
}

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
 * Watches the generations of a worker's mounts and reloads the plugin
 * backend when one moves.
 *
 * Each poll reads every mount's generation with batched key lookups (100 a
 * request). On the first poll the worker records the generation it starts
 * at without reloading. When a generation has moved, the callback runs once
 * for that mount, however many moves lay between two polls, and never twice
 * at once for one mount; then the worker acknowledges the generation it
 * reached, or the error the callback gave.
 *
 * @example
 * const watcher = new PluginWatcher({
 *   catalog: createCatalog(),
 *   workerId: 'worker-1',
 *   mounts: ['custom-secrets/', 'auth/oidc-custom/'],
 *   onReload: async ({ path }) => restartBackend(path),
 * });
 * const stop = new AbortController();
 * await watcher.run(stop.signal);
 */
export class PluginWatcher {
  readonly #options: WatcherOptions;
  readonly #mounts = new Map<string, MountState>();
  readonly #intervalMs: number;

  constructor(options: WatcherOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 1000;
    for (const path of options.mounts) this.addMount(path);
  }

  /** Starts watching another mount of the worker's namespace. */
  addMount(written: string): void {
    const input = parseMountPath(written);
    const mount: MountRef = {
      namespace: normaliseNamespace(this.#options.namespace ?? ''),
      kind: input.kind,
      path: input.path,
    };
    const path = displayMountPath(mount);
    if (!this.#mounts.has(path)) this.#mounts.set(path, { mount, path });
  }

  /** Stops watching a mount; a reload already running for it finishes. */
  removeMount(written: string): void {
    const input = parseMountPath(written);
    this.#mounts.delete(displayMountPath(input));
  }

  /** The mounts watched, as Vault names them. */
  get mounts(): string[] {
    return [...this.#mounts.keys()];
  }

  /**
   * Polls until `signal` aborts, then waits for running reloads to finish.
   * A failed poll is retried with exponential backoff, without end: the
   * worker recovers by itself once DynamoDB answers again.
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
        const ceiling = this.#options.maxBackoffMs ?? 30_000;
        wait = this.#jittered(
          Math.min(ceiling, this.#intervalMs * 2 ** failures),
        );
        this.#options.onEvent?.({
          type: 'poll-failed',
          error: error instanceof Error ? error.message : String(error),
          retryInMs: Math.round(wait),
        });
      }
      await pause(wait, signal);
    }
    await Promise.allSettled(
      [...this.#mounts.values()].map((state) => state.reloading),
    );
  }

  /**
   * One poll: reads every mount and starts the reloads it calls for. Resolves
   * once the reads are done; the reloads it started run on.
   */
  async poll(signal: AbortSignal = new AbortController().signal) {
    const states = [...this.#mounts.values()];
    const items = await batchGet<MountItem>(
      this.#options.catalog,
      states.map((state) => mountKey(state.mount)),
      {
        attributes: ['generation', 'reloadId', 'pluginName', 'entry'],
        // A worker may read a moment-old generation; it will see the new one
        // on its next poll, and the reads cost half as much.
        consistentRead: false,
      },
    );
    const byKey = new Map(
      items.map((item) => [`${item.pk}\n${item.sk}`, item]),
    );
    const started: Promise<void>[] = [];
    for (const state of states) {
      const key = mountKey(state.mount);
      const item = byKey.get(`${key.pk}\n${key.sk}`);
      if (!item) {
        this.#options.onEvent?.({ type: 'missing', path: state.path });
        continue;
      }
      if (state.reloading) continue;
      if (state.generation === undefined) {
        started.push(this.#start(state, item));
      } else if (item.generation > state.generation) {
        state.reloading = this.#reload(state, item, signal).finally(() => {
          state.reloading = undefined;
        });
      }
    }
    await Promise.all(started);
  }

  /** Waits for every reload in flight, for tests and clean shutdowns. */
  async settled(): Promise<void> {
    await Promise.allSettled(
      [...this.#mounts.values()].map((state) => state.reloading),
    );
  }

  async #start(state: MountState, item: MountItem) {
    await recordStart(this.#options.catalog, {
      workerId: this.#options.workerId,
      mount: state.mount,
      generation: item.generation,
      reloadId: item.reloadId,
      error: '',
      at: new Date(),
    });
    state.generation = item.generation;
    this.#options.onEvent?.({
      type: 'started',
      path: state.path,
      generation: item.generation,
    });
  }

  async #reload(state: MountState, item: MountItem, stopping: AbortSignal) {
    const timeoutMs = this.#options.callbackTimeoutMs ?? 30_000;
    const signal = AbortSignal.any([stopping, AbortSignal.timeout(timeoutMs)]);
    let error = '';
    try {
      await Promise.race([
        this.#options.onReload({
          mount: state.mount,
          path: state.path,
          generation: item.generation,
          previousGeneration: state.generation ?? item.generation,
          reloadId: item.reloadId,
          pluginName: item.pluginName,
          pluginVersion: String(item.entry?.plugin_version ?? ''),
          signal,
        }),
        new Promise<never>((_, reject) =>
          signal.addEventListener(
            'abort',
            () =>
              reject(
                new Error(
                  stopping.aborted
                    ? 'the worker stopped during the reload'
                    : `reload callback timed out after ${timeoutMs} ms`,
                ),
              ),
            { once: true },
          ),
        ),
      ]);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
      if (error === '') error = 'reload callback failed';
    }
    await acknowledge(this.#options.catalog, {
      workerId: this.#options.workerId,
      mount: state.mount,
      generation: item.generation,
      reloadId: item.reloadId,
      error,
      at: new Date(),
    });
    // A failed generation is not tried again; the next move will be.
    state.generation = item.generation;
    this.#options.onEvent?.(
      error === ''
        ? {
            type: 'reloaded',
            path: state.path,
            generation: item.generation,
            reloadId: item.reloadId,
          }
        : {
            type: 'failed',
            path: state.path,
            generation: item.generation,
            error,
          },
    );
  }

  #jittered(milliseconds: number) {
    return milliseconds * (0.8 + Math.random() * 0.4);
  }
}
