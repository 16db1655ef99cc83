import { nativeBinding } from './native-binding.js';

/**
 * Switches this thread (Node's main thread) into a network namespace and
 * returns the function that switches back. TAPs and sockets opened in between
 * stay in that namespace after the switch back. Everything else that opens
 * sockets meanwhile (including node:dgram binds that complete later on the
 * loop) lands in the namespace too, so keep the window short, or stay for a
 * whole test/benchmark process. `nameOrPath`: a name under /var/run/netns
 * (as made by `ip netns add`) or an absolute path such as /proc/<pid>/ns/net.
 */
export function enterNetworkNamespace(nameOrPath: string): () => void {
  const path = nameOrPath.startsWith('/') ? nameOrPath : `/var/run/netns/${nameOrPath}`;
  const binding = nativeBinding();
  const saved = binding.netnsEnter(path);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    binding.netnsRestore(saved);
  };
}
