// `leakscope registry validate FILE`: exit 0 when the registry is valid, 2 with every problem named by its path.
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { readRegistryFile } from '../../files/index.js';

export const registryValidate: Command = {
  name: 'registry validate',
  summary: 'check a partner registry file (YAML or JSON); every problem is named by its path',
  usage: 'Usage: leakscope registry validate FILE\n\nExit 0 when valid; 2 with every problem listed as `path: problem`.',
  async run(argv, io) {
    const { positionals } = parseCommandFlags('registry validate', argv, {});
    if (positionals.length !== 1) throw new LeakscopeError('USAGE', 'registry validate takes exactly one FILE');
    const registry = await readRegistryFile(positionals[0]!);
    const entries = registry.partners.length;
    const partners = new Set(registry.partners.map((p) => p.id)).size;
    io.stdout.write(`registry ${positionals[0]} is valid: version ${registry.version}, region ${registry.region}, ` +
      `${partners} partners in ${entries} entries, ${registry.identityHeaders.length} extra identity headers\n`);
    return 0;
  },
};
