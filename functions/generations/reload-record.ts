import type { MountRef } from '../catalog/keys.js';

/** How long a reload record and its targets stay readable for status. */
export const RELOAD_RECORD_DAYS = 30;

/**
 * One reload request as the catalog keeps it. It holds counts, never the
 * list of its targets: each target is an item of its own in the same item
 * collection, so the record stays small however many mounts a reload moves.
 */
export interface ReloadRecord {
  reloadId: string;
  namespace: string;
  /** The plugin named by the request, or "" for a reload by mounts. */
  plugin: string;
  scope: '' | 'global';
  createdAt: string;
  targetCount: number;
}

/** One mount a reload moved, and the generation it moved it to. */
export interface ReloadTargetItem {
  namespace: string;
  kind: MountRef['kind'];
  path: string;
  generation: number;
}

export const expiryOf = (createdAt: Date) =>
  Math.floor(createdAt.getTime() / 1000) + RELOAD_RECORD_DAYS * 24 * 60 * 60;
