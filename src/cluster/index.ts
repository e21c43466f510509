export * from './types.js';
export { ClusterMembership, type ClusterMembershipOptions } from './membership.js';
export { describeHost, loadedModels, packageVersion, type RuntimeReport } from './host-info.js';
