import { ModelManagerError } from '../../errors.js';
import type { RegistryStore } from './store.js';

// Placeholder until the JSON store lands (issue 2, in progress in this session).
export const JsonStore = {
  async open(path: string): Promise<RegistryStore> {
    throw new ModelManagerError('INVALID_CONFIG', `the json store is not built yet (${path})`);
  },
};
