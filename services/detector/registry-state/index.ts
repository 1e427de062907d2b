// The time-versioned partner registry held by the detector, rebuilt from the partner-registry topic.
export { REGISTRY_SETTINGS_KEY, RegistryState, registryJson } from './registry-state.js';
export type { ActiveRegistry, RecordOutcome, SettleOutcome } from './registry-state.js';
