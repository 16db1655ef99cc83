// @dvs/test-support: helpers every package's tests and the end-to-end tests share.
// Fakes of a package's own devices live with it (@dvs/netdev/testing, @dvs/etcd/testing).
export { waitFor } from './wait-for.js';
export { gcsDuring } from './gc-count.js';
