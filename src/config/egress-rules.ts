// Owns the cross-field rules of the egress configuration (egress.*): unique source names and
// addresses, every pool a route or defaultPool names has a source, every warmup names a known
// schedule whose days ascend. Each error names the bad key. Whether an address is local to the
// machine needs a socket and is checked at start (delivery/source-check.ts).
import { ConfigError } from '../errors.js';
import type { EgressConfig } from './schema.js';

const bad = (key: string, message: string) => new ConfigError(`invalid configuration at ${key}: ${message}`, key);

export function checkEgressRules(e: EgressConfig): void {
  checkSchedules(e);
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  e.sources.forEach((s, i) => {
    const key = `egress.sources[${i}]`;
    if (names.has(s.name)) throw bad(`${key}.name`, `"${s.name}" is also the name of egress.sources[${names.get(s.name)}]`);
    names.set(s.name, i);
    const a = s.address.toLowerCase();
    if (addresses.has(a)) throw bad(`${key}.address`, `${s.address} is also the address of egress.sources[${addresses.get(a)}]`);
    addresses.set(a, i);
    if (s.warmup && s.warmup.schedule !== 'stock' && !(s.warmup.schedule in e.warmupSchedules)) {
      throw bad(`${key}.warmup.schedule`, `no schedule "${s.warmup.schedule}" ("stock" or one of egress.warmupSchedules)`);
    }
  });
  if (e.sources.length === 0) {
    if (e.routes.length > 0) throw bad('egress.routes', 'routes need egress.sources (none is configured)');
    return;
  }
  const pools = new Set(e.sources.map((s) => s.pool));
  const known = [...pools].join(', ');
  if (!pools.has(e.defaultPool)) throw bad('egress.defaultPool', `pool "${e.defaultPool}" has no source (pools: ${known})`);
  e.routes.forEach((r, i) => {
    if (!pools.has(r.pool)) throw bad(`egress.routes[${i}].pool`, `pool "${r.pool}" has no source (pools: ${known})`);
  });
  e.pools.forEach((p, i) => {
    if (!pools.has(p.name)) throw bad(`egress.pools[${i}].name`, `pool "${p.name}" has no source (pools: ${known})`);
  });
}

function checkSchedules(e: EgressConfig): void {
  for (const [name, steps] of Object.entries(e.warmupSchedules)) {
    if (name === 'stock') throw bad('egress.warmupSchedules.stock', '"stock" is the shipped schedule; give yours another name');
    steps.forEach((s, i) => {
      if (i > 0 && s.day <= steps[i - 1]!.day) throw bad(`egress.warmupSchedules.${name}[${i}].day`, 'days must ascend');
    });
  }
}
