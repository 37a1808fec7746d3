// C2SP signed-note checkpoints in the form Rekor v1 publishes:
//   <origin>\n<tree size>\n<base64 root hash>\n\n— <signer name> <base64(key hint || signature)>\n
// The signer name is the host the log is served on, so it is contained in the trusted root's
// tlog baseUrl (sigstore-js requires that) whatever port the server gets.
import { sign } from 'node:crypto';
import type { SigningKey } from '../instance';

export class CheckpointSigner {
  private cached?: { size: number; root: string; note: string };

  constructor(
    readonly origin: string,
    readonly signerName: string,
    private readonly key: SigningKey,
  ) {
    if (/\s/.test(signerName) || signerName === '')
      throw new Error(`invalid checkpoint signer name "${signerName}"`);
  }

  sign(size: number, root: Buffer): string {
    const rootB64 = root.toString('base64');
    if (this.cached?.size === size && this.cached.root === rootB64) return this.cached.note;
    const body = `${this.origin}\n${size}\n${rootB64}\n`;
    const signature = sign('sha256', Buffer.from(body, 'utf8'), this.key.privateKey);
    const stamp = Buffer.concat([this.key.keyId.subarray(0, 4), signature]).toString('base64');
    const note = `${body}\n\u2014 ${this.signerName} ${stamp}\n`;
    this.cached = { size, root: rootB64, note };
    return note;
  }
}
