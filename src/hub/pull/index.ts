export { pullModel, parseHubName, type PullOptions, type PullProgress, type PullResult, type PullFileResult } from './pull-model.js';
export { selectFiles, ggufQuantization, onnxVariantOf, type RepoFile, type FileSelection, type SelectOptions } from './select-files.js';
