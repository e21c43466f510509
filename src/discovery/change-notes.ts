/**
 * The change notes of the versions discovery writes. A version with one of these notes holds
 * what a scan read from the files, which a person's later edit wins over (see
 * registry/field-origin.ts). A leaf module, so the registry can tell these notes apart without
 * loading discovery.
 */

export const DISCOVERY_CHANGES = {
  added: 'discovered',
  updated: 'discovery: files changed',
  missing: 'discovery: files missing',
  registered: 'registered from files',
} as const;

const DISCOVERY_NOTES = new Set<string>(Object.values(DISCOVERY_CHANGES));

/** True for a version discovery wrote. */
export const isDiscoveryChange = (change: string): boolean => DISCOVERY_NOTES.has(change);
