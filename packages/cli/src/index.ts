// @dvs/cli public surface: the program (for docs and the lab), the runner and the views.
export { runCli, type RunCliOptions } from './run-cli.js';
export { buildProgram, prepareCommand, cliVersion } from './program.js';
export type { CliContext, CliIo } from './cli-context.js';
export * from './cli-errors.js';
export {
  ControllerClient,
  type ControllerClientOptions,
  type ControllerCredentials,
  type HttpAnswer,
} from './clients/controller-client.js';
export { renderTable, renderFields, type Column } from './render/table.js';
export { renderTunnels, tunnelRows } from './render/tunnels-view.js';
export { generateCliDocs } from './cli-docs.js';
