// @dvs/agent public surface: the Agent (start/stop), its config loader, the
// DataPath and its control surface, the admin socket server and its command registry.
export {
  Agent,
  AgentError,
  AGENT_VERSION,
  staticChanges,
  type AgentEvents,
  type AgentOptions,
  type AgentStartOptions,
  type PeerInfo,
} from './agent.js';
export { linuxDevices, type AgentDevices } from './agent-devices.js';
export { AGENT_HELP } from './agent-help.js';
export { startAgentEtcd, type AgentEtcd } from './agent-etcd.js';
export { EtcdSync, type EtcdSyncOptions, type EtcdSyncStatus } from './etcd-sync/index.js';
export * from './config/agent-config.js';
export { ConfigError } from './config/config-error.js';
export { loadConfig, parseConfigText, FLAG_OPTIONS, type LoadedConfig } from './config/load-config.js';
export { validateConfig } from './config/validate-config.js';
export { checkEtcdIdentity, certificateCommonName } from './config/etcd-identity.js';
export { parsePortMapping, formatPortMapping, type PortMapping } from './config/port-mapping-text.js';
export { AdminServer } from './admin/admin-server.js';
export { registerAgentCommands, type AgentControl } from './admin/agent-commands.js';
export {
  CommandRegistry,
  AdminCommandError,
  type AdminCommand,
  type CommandResult,
  type AdminErrorCode,
} from './admin/command-registry.js';
export * from './datapath/index.js';
export type { AgentPortView, PortRequest, PortOrigin } from './ports/managed-port.js';
export {
  readStateFile,
  writeStateFile,
  formatStateFile,
  parseStateFile,
  STATE_FILE_FORMAT,
  STATE_FILE_VERSION,
  type StatePort,
  type StateFileRead,
} from './ports/state-file.js';
export { createLogger, silentLogger, type Logger, type LogFields, type LoggerOptions } from './observe/logger.js';
export { renderMetrics } from './observe/metrics.js';
export { MetricsServer } from './observe/metrics-server.js';
export * from './workers/index.js';
