import { chmod, stat, writeFile } from 'node:fs/promises';
import type { Command, CommandGroup } from '../core/command.js';
import { UsageError } from '../core/errors.js';
import { generateSigningKeyPair } from '../../../agent/src/features/updates/signing.js';

const gen: Command = {
  path: ['keys', 'gen'],
  summary: 'Generate an ed25519 release-signing key pair (files; no server needed)',
  description:
    'Writes PREFIX.key (PKCS#8 PEM, mode 0600: keep it offline) and PREFIX.pub (SPKI PEM), and prints the ' +
    'public key as one base64 line for the agents\' `updates.trustedKeys`.',
  options: [
    { name: 'out', type: 'string', placeholder: 'prefix', default: 'fleet-release', description: 'file name prefix' },
    { name: 'force', type: 'boolean', description: 'overwrite existing files' },
  ],
  examples: ['fleetctl keys gen --out /secure/release-2026'],
  async run(ctx) {
    const prefix = ctx.options.out as string;
    const keyFile = `${prefix}.key`;
    const pubFile = `${prefix}.pub`;
    if (!ctx.options.force) {
      for (const file of [keyFile, pubFile]) {
        if (await stat(file).then(() => true, () => false)) throw new UsageError(`${file} exists; pass --force to overwrite`);
      }
    }
    const pair = generateSigningKeyPair();
    await writeFile(keyFile, pair.privateKeyPem, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    await writeFile(pubFile, pair.publicKeyPem);
    if (ctx.output === 'json') {
      ctx.printJson({ privateKeyFile: keyFile, publicKeyFile: pubFile, publicKey: pair.publicKeyBase64 });
      return;
    }
    ctx.print(pair.publicKeyBase64);
    ctx.note(`Wrote ${keyFile} (private, keep it safe) and ${pubFile}. Trust the key above in the agents' config:\n  updates:\n    trustedKeys: ["${pair.publicKeyBase64}"]`);
  },
};

export const keysCommands: CommandGroup = {
  name: 'keys',
  summary: 'Release-signing keys',
  commands: [gen],
};
