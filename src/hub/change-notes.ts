/**
 * The change notes of the versions the Hugging Face writers make: import, sync, pull and static
 * sync. A version with one of these notes holds what a machine read from a config or a card,
 * which a person's later edit wins over (see registry/field-origin.ts). A leaf module, so the
 * registry can tell these notes apart without loading the writers.
 */

/** Where an import read a model: a folder, the HF cache or the hub (HfSourceKind). */
type ReadFrom = 'local' | 'cache' | 'hub';

export const HUB_CHANGES = {
  /** `mm import`: a new entry. */
  imported: (from: ReadFrom) => `import from ${from}`,
  /** `mm import --force`: an entry read again. */
  reimported: (from: ReadFrom) => `re-import from ${from}`,
  /** `mm sync`: the config changed. */
  synced: (from: ReadFrom) => `sync: config changed (${from})`,
  /** `mm pull`: an entry made from, or pointed at, the files pulled. */
  pulled: (repoId: string, commit: string) => `pull ${repoId}@${commit.slice(0, 12)}`,
  /** `mm sync --static`: a static definition registered. */
  staticAdded: 'sync --static',
  /** `mm sync --static`: a static definition changed. */
  staticChanged: 'sync --static: definition changed',
} as const;

const HUB_NOTE = /^(?:(?:re-)?import from (?:local|cache|hub)|sync: config changed \((?:local|cache|hub)\)|pull \S+@[0-9a-f]{1,12}|sync --static(?:: definition changed)?)$/;

/** True for a version one of the Hugging Face writers made. */
export const isHubChange = (change: string): boolean => HUB_NOTE.test(change);
