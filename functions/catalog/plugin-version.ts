import semver from 'semver';
import { InvalidRequestError } from '../api/errors.js';

/**
 * Plugin versions as Vault writes them: a semantic version with a leading
 * `v` ("v1.2.3", "v0.19.0+builtin"), or "" for an unversioned plugin.
 */

/**
 * The canonical spelling of a version a caller wrote: `1.2.3` and `v1.2.3`
 * are both `v1.2.3`, and build metadata is kept. "" stays "".
 *
 * @throws InvalidRequestError in Vault's words when it is not a version.
 */
export const canonicalVersion = (written: string): string => {
  const trimmed = written.trim();
  if (trimmed === '') return '';
  const parsed = semver.parse(trimmed);
  if (!parsed) {
    throw new InvalidRequestError(
      `version "${written}" is not a valid semantic version: ` +
        `Malformed version: ${written}`,
    );
  }
  const build = parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '';
  return `v${parsed.version}${build}`;
};

/** Vault marks the versions of its builtin plugins with `+builtin`. */
export const isBuiltinVersion = (version: string) => {
  const build = semver.parse(version)?.build ?? [];
  return build[0] === 'builtin';
};

/** Orders versions oldest first; the unversioned one counts as 0.0.0. */
export const compareVersions = (left: string, right: string) =>
  semver.compare(left || '0.0.0', right || '0.0.0');

/** A version as a message shows it. */
export const describeVersion = (version: string) =>
  version === '' ? '(unversioned)' : version;

const SHA256_HEX_LENGTH = 64;

/**
 * Reads a SHA-256 as Vault takes it: hex, upper or lower case, stored lower
 * case. Vault's own message names the first character that is not hex;
 * beyond Vault, the length must be that of a SHA-256.
 *
 * @throws InvalidRequestError naming what is wrong with it.
 */
export const checkSha256 = (written: string): string => {
  const invalid = /[^0-9a-fA-F]/.exec(written);
  if (invalid) {
    const codePoint = invalid[0].codePointAt(0) ?? 0;
    const unicode = codePoint.toString(16).toUpperCase().padStart(4, '0');
    throw new InvalidRequestError(
      `Could not decode SHA256 value from Hex ${written}: encoding/hex: ` +
        `invalid byte: U+${unicode} '${invalid[0]}'`,
    );
  }
  if (written.length % 2 === 1) {
    throw new InvalidRequestError(
      `Could not decode SHA256 value from Hex ${written}: encoding/hex: ` +
        'odd length hex string',
    );
  }
  if (written.length !== SHA256_HEX_LENGTH) {
    throw new InvalidRequestError(
      `a SHA256 value is ${SHA256_HEX_LENGTH} hex characters, ` +
        `got ${written.length}`,
    );
  }
  return written.toLowerCase();
};
