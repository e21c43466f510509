/**
 * Settings: the runtime's globals and configured models, from a settings file, `MM_<SETTING>`
 * environment variables and flags, checked by one schema.
 */
export { loadSettings, type LoadSettingsOptions, type LoadedSettings, type SettingEntry } from './load-settings.js';
export { managerOptions, withSettings } from './manager-options.js';
export { settingsSchema, modelSettingsSchema, type Settings, type ModelSettings, type ConfiguredModelOptions } from './schema.js';
export { describeOrigin, type SettingOrigin } from './settings-tree.js';
