/**
 * Which provider serves a network, and why. The rule ("one UDP port, one
 * owner") lives in @dvs/wire (datapath/datapath-choice.ts) because the
 * controller API and the CLI apply it too; the agent uses it from here:
 * config validation, the VXLAN owner at start, and `Datapaths` for every
 * network that arrives.
 */
export {
  kernelMissing,
  placeNetwork,
  servedBy,
  vxlanOwner,
  type KernelAvailability,
  type NetworkChoiceInput,
  type Placement,
  type ServedBy,
  type VxlanOwner,
} from '@dvs/wire';
