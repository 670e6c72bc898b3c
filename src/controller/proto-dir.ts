import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** proto/ of this checkout or package, found from this module (src/ or dist/src/). */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'proto', 'switchyard', 'v1'))) return join(dir, 'proto');
    const up = dirname(dir);
    if (up === dir) throw new Error('proto/ not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
