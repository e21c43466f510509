export { parseHubName } from './hub-name.js';
export { pullModel, type PullOptions, type PullProgress, type PullResult, type PullFileResult } from './pull-model.js';
export { selectFiles, ggufQuantization, onnxVariantOf, type RepoFile, type FileSelection, type SelectOptions } from './select-files.js';
export { pullToRegistry, type RegisteredPull, type PullToRegistryOptions } from './register-pull.js';
export { cachedModelPath } from './cached-model.js';
