// Real QEMU guests for the lab, the demo and the tests: image, VMs, console, QMP, live migration.
export { ensureGuestImage, defaultGuestDir, type GuestImage, type GuestImageOptions } from './guest-image.js';
export { GUEST_READY_LINE, guestKernelCommandLine, validateGuestConfig, type GuestConfig } from './guest-init.js';
export { detectAcceleration, qemuVersion, type AccelerationChoice, type AccelerationOptions } from './acceleration.js';
export {
  qemuCommand,
  QEMU_BINARY,
  type QemuAccelerator,
  type QemuCommandSpec,
  type QemuNicSpec,
} from './qemu-command.js';
export { QmpClient, type QmpEvent, type QmpClientEvents, type QmpWaitOptions } from './qmp-client.js';
export { GuestConsole, shellQuote, type ConsoleOptions, type ConsoleResult } from './guest-console.js';
export { QemuVm, type QemuVmOptions, type QemuVmRecord } from './qemu-vm.js';
export { migrateQemu, type QemuMigrationOptions, type QemuMigrationResult } from './qemu-migration.js';
export { GuestContinuousPing, pingFromGuest, parseBusyboxPing, type GuestPingFigures } from './guest-ping.js';
