import { CursorCodec } from './cursors';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const KEY = '2025-02-01T07:00:00.000Z|ord_1';

describe('opaque cursors', () => {
  const orders = new CursorCodec(SECRET, 'orders:User.orders');
  const refusal = (argument = 'after') => expect.objectContaining({ message: `${argument} is not a valid cursor`, extensions: { code: 'BAD_USER_INPUT' } });
  const decodeError = (codec: CursorCodec, cursor: string) => {
    try {
      codec.decode(cursor);
    } catch (err) {
      return err;
    }
    return 'accepted';
  };

  it('round-trip a key, and the same key always gives the same cursor', () => {
    const cursor = orders.encode(KEY);
    expect(orders.decode(cursor)).toBe(KEY);
    expect(orders.encode(KEY)).toBe(cursor);
    expect(orders.decode(null)).toBeNull();
    expect(orders.decode(undefined)).toBeNull();
  });

  it('cannot be read: neither the order id nor its time shows in the cursor or its bytes', () => {
    const cursor = orders.encode(KEY);
    const bytes = Buffer.from(cursor, 'base64url');
    for (const part of ['ord_1', '2025', 'T07:00']) {
      expect([part, cursor.includes(part), bytes.includes(part)]).toEqual([part, false, false]);
    }
    // Two keys that differ in one character share nothing visible either.
    expect(orders.encode('2025-02-01T07:00:00.000Z|ord_2').slice(0, 20)).not.toBe(cursor.slice(0, 20));
  });

  it.each([
    ['base64url of a plain key (the old format)', () => Buffer.from(KEY).toString('base64url')],
    ['a cursor with one bit of its ciphertext flipped', () => flip(orders.encode(KEY), 20)],
    ['a cursor with one bit of its tag flipped', () => flip(orders.encode(KEY), -1)],
    ['a cursor with one bit of its IV flipped', () => flip(orders.encode(KEY), 3)],
    ['a cursor cut short', () => orders.encode(KEY).slice(0, -4)],
    ['a cursor with bytes added', () => `${orders.encode(KEY)}AAAA`],
    ['a cursor with a character base64url does not know', () => `${orders.encode(KEY)}!`],
    ['a cursor of another list', () => new CursorCodec(SECRET, 'products:Query.products').encode(KEY)],
    ['a cursor made with another secret', () => new CursorCodec('another-secret-of-at-least-32-chars!!', 'orders:User.orders').encode(KEY)],
    ['an empty string', () => ''],
    ['garbage', () => 'not a cursor!'],
  ])('refuse %s with BAD_USER_INPUT', (_, cursor) => {
    expect(decodeError(orders, cursor())).toEqual(refusal());
  });

  it('name the argument a bad cursor came in', () => {
    expect(() => orders.decode('garbage', 'before')).toThrow('before is not a valid cursor');
  });
});

/** The cursor with one bit flipped in its byte at `index` (negative: from the end). */
function flip(cursor: string, index: number): string {
  const bytes = Buffer.from(cursor, 'base64url');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('base64url');
}
