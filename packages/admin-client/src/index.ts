// @dvs/admin-client: the one client of the agent's admin socket (CLI, lab, tests).
// The protocol itself (framing, request and response shapes) is @dvs/wire's admin/.
export {
  AdminClient,
  AdminCallError,
  AdminUnavailableError,
  type AdminAnswer,
  type AdminCallOptions,
  type AdminTransportCode,
  type ReplyOf,
} from './admin-client.js';
