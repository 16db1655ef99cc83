/**
 * JSON-ready views of the data path's tables, for the admin socket, metrics
 * and tests. Built on demand (allocation is fine here: never per frame). The
 * shapes are the admin replies of @dvs/wire, which the CLI and lab read.
 */
export type {
  AgentFdbEntryView as FdbEntryView,
  AgentNetworkView as NetworkView,
  AgentPeerView as PeerView,
  DataPathPortView as PortView,
} from '@dvs/wire';
