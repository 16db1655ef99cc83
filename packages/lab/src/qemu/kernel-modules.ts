/**
 * Which kernel modules the guest needs, in the order insmod must load them,
 * read from the kernel's own `modules.dep` and `modules.builtin` (depmod's
 * output for the unpacked kernel package). Pure functions over the file
 * texts; the image builder does the I/O.
 */

/** A module's name as modprobe spells it: file name without directory, `.ko` or compression suffix, `-` as `_`. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');
}

export interface ModulesDep {
  /** Module name → its path relative to /lib/modules/<version>/. */
  paths: Map<string, string>;
  /** Module name → names of the modules it depends on (modules.dep lists the whole closure). */
  depends: Map<string, string[]>;
}

/** Parses modules.dep ("kernel/drivers/net/virtio_net.ko: kernel/net/core/failover.ko …"). */
export function parseModulesDep(text: string): ModulesDep {
  const paths = new Map<string, string>();
  const depends = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const name = moduleName(path);
    paths.set(name, path);
    depends.set(
      name,
      line
        .slice(colon + 1)
        .split(/\s+/)
        .filter((p) => p !== '')
        .map(moduleName),
    );
  }
  return { paths, depends };
}

/** Names of the modules compiled into the kernel (modules.builtin lists their would-be paths). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map(moduleName),
  );
}

export interface ModuleLoadPlan {
  /** Paths (relative to /lib/modules/<version>/) in load order: every module after its dependencies. */
  load: string[];
  /** Wanted modules that are built into this kernel (nothing to load). */
  builtin: string[];
}

/**
 * The modules to load for `wanted` (names), dependencies first, each once.
 * Throws naming the module when one is neither a module nor built in.
 */
export function moduleLoadPlan(
  wanted: readonly string[],
  dep: ModulesDep,
  builtin: ReadonlySet<string>,
): ModuleLoadPlan {
  const load: string[] = [];
  const done = new Set<string>();
  const builtinWanted: string[] = [];
  const visit = (name: string, chain: readonly string[]): void => {
    if (done.has(name)) return;
    if (chain.includes(name)) throw new Error(`kernel modules: dependency cycle ${[...chain, name].join(' -> ')}`);
    const path = dep.paths.get(name);
    if (path === undefined) {
      if (builtin.has(name)) {
        done.add(name);
        if (chain.length === 0) builtinWanted.push(name);
        return;
      }
      const via = chain.length > 0 ? ` (needed by ${chain.join(' -> ')})` : '';
      throw new Error(`kernel module ${name}${via} is neither in modules.dep nor in modules.builtin of this kernel`);
    }
    // modules.dep lists the full closure; visiting each one recursively still
    // puts every module after its own dependencies.
    for (const d of dep.depends.get(name) ?? []) visit(d, [...chain, name]);
    done.add(name);
    load.push(path);
  };
  for (const name of wanted) visit(moduleName(name), []);
  return { load, builtin: builtinWanted };
}
