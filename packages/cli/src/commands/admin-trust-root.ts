import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { PrivateKey } from '@signalapp/libsignal-client';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';

/**
 * Sealed sender's trust root, kept off the serving path: `init` makes it on an offline
 * machine, `issue` signs a server certificate for a deployment with it. Servers get only
 * the certificate file; clients pin the printed public key (`kluis register --trust-root`).
 */
export function registerTrustRootCommands(admin: Command, io: CliIo): void {
  const tr = admin
    .command('trust-root')
    .description('sealed sender: make the offline trust root and issue server certificates with it (no server needed)');

  tr.command('init')
    .description('generate a trust root key pair; keep the private key file offline')
    .requiredOption('--out <file>', 'where to write the private key (created with mode 600; refuses to overwrite)')
    .option('--json', 'print JSON')
    .action(async (opts: { out: string; json?: boolean }) => {
      const { PrivateKey } = await import('@signalapp/libsignal-client');
      const key = PrivateKey.generate();
      try {
        await writeFile(opts.out, Buffer.from(key.serialize()).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
      } catch (e) {
        throw new CliError(`cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'the file exists (refusing to overwrite a trust root)' : (e as Error).message}`);
      }
      const publicKey = Buffer.from(key.getPublicKey().serialize()).toString('base64');
      if (opts.json) return jsonLine(io.stdout, { publicKey, privateKeyFile: opts.out });
      line(io.stdout, `trust root public key: ${publicKey}`);
      line(io.stdout, `private key written to ${opts.out} — keep it offline; it is needed only to issue server certificates`);
      line(io.stdout, `give the public key to subscribers (kluis register --trust-root ${publicKey})`);
    });

  tr.command('issue')
    .description('sign a new server certificate (for kluis server --sender-certificate FILE)')
    .requiredOption('--trust-root-key <file>', 'the private key file from trust-root init')
    .requiredOption('--out <file>', 'where to write the server certificate file (mode 600)')
    .option('--key-id <n>', 'certificate key id (raise it when rotating)', '1')
    .action(async (opts: { trustRootKey: string; out: string; keyId: string }) => {
      const keyId = Number(opts.keyId);
      if (!Number.isInteger(keyId) || keyId < 1 || keyId > 0xffffff) throw new CliError('--key-id must be an integer from 1 to 16777215');
      const { PrivateKey } = await import('@signalapp/libsignal-client');
      let trustRoot: PrivateKey;
      try {
        trustRoot = PrivateKey.deserialize(new Uint8Array(Buffer.from((await readFile(opts.trustRootKey, 'utf8')).trim(), 'base64')));
      } catch (e) {
        throw new CliError(`cannot read a trust root private key from ${opts.trustRootKey}: ${(e as Error).message}`);
      }
      const { issueServerCertificate, SealedSenderKeys } = await import('@kluis/server');
      const file = issueServerCertificate(trustRoot, keyId);
      SealedSenderKeys.fromParts(file); // refuses a certificate the root does not vouch for
      await writeFile(opts.out, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
      await chmod(opts.out, 0o600);
      line(io.stdout, `server certificate ${keyId} written to ${opts.out}; start servers with --sender-certificate ${opts.out}`);
    });
}
