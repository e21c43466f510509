/** Discovery: finds models on disk (folders, HF cache, Ollama, LM Studio) and keeps the registry in step. */
export { Discovery, type DiscoveryOptions, type RefreshOptions } from './discovery.js';
export { describeModelAt, type DescribeAtOptions, type ModelAtPath } from './describe-path.js';
export { discoverySettingsSchema, parseDiscoverySettings, loadDiscoverySettings, DISCOVERY_FORMATS, type DiscoverySettings } from './settings.js';
export {
  DEFAULT_CATEGORIZATION_RULES, categorize, type CategorizationRules, type CategoryRule, type CategoryEvidence,
} from './rules.js';
export { loadCategorizationRules } from './rules-file.js';
export type { DiscoveryPlugin, PluginCallContext, PluginFiles, PluginMetadata } from './plugins/plugin.js';
export type {
  DiscoveryStatus, ScanCounts, ScanLogEntry, ScanProgress, ScanReport, ScanSummary, ScanWarning, ValidationCheck, ValidationReport,
} from './types.js';
