/**
 * What the flow export e2e tests share: where the collectors listen in the
 * lab's underlay namespace, the frames of their fixed ping transfer, and the
 * sFlow sampling with the error bound its estimates are judged by.
 */

/** The collectors' address in the lab's underlay namespace, and their ports. */
export const COLLECTOR = '198.51.100.1';
export const IPFIX_PORT = 4739;
export const SFLOW_PORT = 6343;

/** The transfer's ICMP payload (`ping -s`), and the IP bytes of each echo. */
export const PAYLOAD = 1000;
export const IP_BYTES = PAYLOAD + 8 + 20;

/** sFlow samples one frame in SAMPLING; an estimate may be off by SIGMAS standard deviations. */
export const SAMPLING = 8;
export const SIGMAS = 5;

/**
 * The relative error an sFlow estimate of `count` frames stays within:
 * SIGMAS standard deviations of binomial(count, 1/SAMPLING), over its mean
 * (flow-export.test.ts says why a binomial bound is conservative).
 */
export function sflowErrorBound(count: number): number {
  const p = 1 / SAMPLING;
  return (SIGMAS * Math.sqrt(count * p * (1 - p))) / (count * p);
}
