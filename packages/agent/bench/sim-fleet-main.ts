/**
 * A process of simulated agents (scale-fleet.ts) for the chaos test: starts
 * agents `--first`..`--first + --count - 1` of the plan against the given
 * etcd, prints `ready <n>` once each holds its VNI's complete tables, and
 * runs until SIGTERM (stops cleanly) or SIGKILL.
 *
 *   node sim-fleet-main.js --endpoints URL,… [--ca F --cert F --key F] --hosts N --first I --count C
 *     [--macs-per-host M] [--hosts-per-vni K] [--first-vni V]
 */
import { parseArgs } from 'node:util';
import { complete, MoveWatch, startFleet, type FleetPlan } from './scale-fleet.js';

const { values } = parseArgs({
  options: {
    endpoints: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    hosts: { type: 'string', default: '50' },
    first: { type: 'string', default: '0' },
    count: { type: 'string' },
    'macs-per-host': { type: 'string', default: '20' },
    'hosts-per-vni': { type: 'string', default: '25' },
    'first-vni': { type: 'string', default: '1000' },
  },
});
if (values.endpoints === undefined) {
  console.error('--endpoints is required (etcd client URLs, comma separated)');
  process.exit(2);
}
const plan: FleetPlan = {
  hosts: Number(values.hosts),
  macsPerHost: Number(values['macs-per-host']),
  hostsPerVni: Number(values['hosts-per-vni']),
  firstVni: Number(values['first-vni']),
};
const first = Number(values.first);
const count = Number(values.count ?? plan.hosts - first);
const agents = startFleet(
  plan,
  {
    endpoints: values.endpoints.split(','),
    ...(values.ca !== undefined ? { caFile: values.ca } : {}),
    ...(values.cert !== undefined ? { certFile: values.cert } : {}),
    ...(values.key !== undefined ? { keyFile: values.key } : {}),
  },
  new MoveWatch(),
  { first, count },
);
const timer = setInterval(() => {
  if (agents.every((a) => complete(plan, a))) {
    console.log(`ready ${agents.length}`);
    clearInterval(timer);
  }
}, 200);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void Promise.all(agents.map((a) => a.sync.stop())).then(() => process.exit(0));
});
