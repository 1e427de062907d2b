// Big incident logs for the benches: one file per format, made by the incident generator
// (services/demo/incident) and kept under bench/.data (git-ignored) between runs.
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

export interface IncidentLog {
  file: string;
  registry: string;
  /** Hosts the registry names exactly (no wildcard): what a hand-written query joins on. */
  exactPartnerHosts: string[];
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'leakscope.js'))) dir = dirname(dir);
  return dir;
}

/** About `requests` requests (3.2M ≈ 1 GB) of one format in ONE plain file, generated once. */
export async function incidentLog(format: 'ndjson' | 'w3c', requests: number): Promise<IncidentLog> {
  const root = repoRoot();
  const dir = join(root, 'bench', '.data', `${format}-${requests}`);
  const file = join(dir, `incident.${format === 'ndjson' ? 'ndjson' : 'log'}`);
  const registry = join(dir, 'registry.yaml');
  if (!existsSync(file)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`  generating ${requests.toLocaleString('en-GB')} requests of ${format} (once; kept in ${dir})\n`);
    execFileSync(process.execPath, [join(root, 'dist', 'demo', 'incident.js'), '--out', dir, '--requests', String(requests),
      '--format', format, '--no-disclosures'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // One file: the gateways' logs one after the other (a W3C file may re-declare #Fields anywhere).
    const partial = `${file}.partial`;
    const out = createWriteStream(partial);
    for (const name of readdirSync(join(dir, 'logs')).sort()) {
      const path = join(dir, 'logs', name);
      const input = createReadStream(path);
      if (name.endsWith('.gz')) await pipeline(input, createGunzip(), out, { end: false });
      else await pipeline(input, out, { end: false });
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    renameSync(partial, file);
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
  }
  const { parseRegistry } = await import('../services/core/registry/index.js');
  const { readFileSync } = await import('node:fs');
  const parsed = parseRegistry(readFileSync(registry, 'utf8'), registry);
  const exactPartnerHosts = [...new Set(parsed.partners.flatMap((p) => p.domains).filter((d) => !d.startsWith('*.')))];
  return { file, registry, exactPartnerHosts };
}
