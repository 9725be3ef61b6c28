import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { badInput } from './graphql-util';

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Opaque page cursors: the row key (an id, or a timestamp and an id) encrypted and authenticated with
 * AES-256-GCM under keys derived from the identity signing secret, and bound to the one list they page.
 * A client can neither read a cursor (an order cursor once showed when an order was placed) nor make or
 * alter one, nor use one list's cursor on another: each of those is BAD_USER_INPUT. Rotating the secret
 * ends the cursors handed out before, as it ends every signature.
 */
export class CursorCodec {
  private readonly encryptionKey: Buffer;
  private readonly ivKey: Buffer;

  /** `list` names what the cursors page, such as "Query.products": it is authenticated with every cursor. */
  constructor(
    secret: string,
    private readonly list: string,
  ) {
    const keys = Buffer.from(hkdfSync('sha256', secret, '', 'switchyard page cursors v1', 64));
    this.encryptionKey = keys.subarray(0, 32);
    this.ivKey = keys.subarray(32);
  }

  encode(key: string): string {
    // A synthetic IV (a MAC of list and key, as in SIV): one row always gets one cursor, and two different
    // keys never share an IV, which GCM must never allow.
    const iv = createHmac('sha256', this.ivKey).update(`${this.list}\0${key}`).digest().subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(this.list));
    const sealed = Buffer.concat([cipher.update(key, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT), iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The row key of a cursor this codec made; null for none; BAD_USER_INPUT for anything else. */
  decode(cursor: string | null | undefined, argument = 'after'): string | null {
    if (cursor == null) return null;
    const bytes = Buffer.from(cursor, 'base64url');
    // Re-encoding must give the cursor back: base64url decoding skips characters it does not know.
    if (bytes.length <= 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT || bytes.toString('base64url') !== cursor) {
      throw badInput(`${argument} is not a valid cursor`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, bytes.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(this.list));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw badInput(`${argument} is not a valid cursor`);
    }
  }
}
