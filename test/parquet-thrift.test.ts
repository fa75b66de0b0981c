// The bounded Thrift compact reader (scanners/parquet/thrift.ts) against bytes written by Apache Thrift's
// own compact-protocol writer (the copy parquetjs-lite ships), the independent oracle: every value type,
// long field-id deltas, long lists, maps, nesting, and every truncation of such a struct. Written for the
// mutants of thrift.ts that survived the parquet suites (issue 15).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { CompactType, ThriftError, ThriftReader } from '../scanners/parquet/thrift.js';

const require = createRequire(import.meta.url);
const thrift = require('parquetjs-lite/modules/thrift-lite') as any;
const T = thrift.Thrift.Type;

/** Bytes written by Apache Thrift's TCompactProtocol; `body` writes fields of one struct. */
function compact(body: (p: any) => void): Uint8Array {
  let out: Buffer | undefined;
  const transport = new thrift.TBufferedTransport(undefined, (buf: Buffer) => (out = buf));
  const p = new thrift.TCompactProtocol(transport);
  p.writeStructBegin('s');
  body(p);
  p.writeFieldStop();
  p.writeStructEnd();
  p.flush();
  return new Uint8Array(out!);
}

function field(p: any, id: number, type: number, write: () => void): void {
  p.writeFieldBegin('f', type, id);
  write();
  p.writeFieldEnd();
}

const long = 'ä'.repeat(40) + 'x'.repeat(30); // non-ASCII and longer than the 64-byte fast path
const sample = (p: any): void => {
  field(p, 1, T.I32, () => p.writeI32(-5));
  field(p, 2, T.I64, () => p.writeI64(2 ** 52 - 1));
  field(p, 3, T.I64, () => p.writeI64(-(2 ** 52)));
  field(p, 4, T.STRING, () => p.writeString('schema'));
  field(p, 5, T.STRING, () => p.writeString('né'));
  field(p, 6, T.STRING, () => p.writeString(long));
  field(p, 7, T.BOOL, () => p.writeBool(true));
  field(p, 8, T.BOOL, () => p.writeBool(false));
  field(p, 9, T.BYTE, () => p.writeByte(-3));
  field(p, 10, T.BYTE, () => p.writeByte(127));
  field(p, 11, T.DOUBLE, () => p.writeDouble(1.5));
  field(p, 12, T.I16, () => p.writeI16(-300));
  // id 40 after 12: a delta above 15, so a long header with the id as a zigzag varint
  field(p, 40, T.LIST, () => {
    p.writeListBegin(T.I32, 20);
    for (let i = 0; i < 20; i++) p.writeI32(i * 1000 - 7000);
    p.writeListEnd();
  });
  field(p, 41, T.LIST, () => {
    p.writeListBegin(T.BOOL, 3);
    for (const b of [true, false, true]) p.writeBool(b);
    p.writeListEnd();
  });
  field(p, 42, T.LIST, () => {
    p.writeListBegin(T.DOUBLE, 2);
    p.writeDouble(1);
    p.writeDouble(2);
    p.writeListEnd();
  });
  field(p, 43, T.LIST, () => {
    p.writeListBegin(T.BYTE, 2);
    p.writeByte(1);
    p.writeByte(2);
    p.writeListEnd();
  });
  field(p, 44, T.MAP, () => {
    p.writeMapBegin(T.STRING, T.I64, 2);
    p.writeString('a');
    p.writeI64(1);
    p.writeString('b');
    p.writeI64(-1);
    p.writeMapEnd();
  });
  field(p, 45, T.MAP, () => {
    p.writeMapBegin(T.I32, T.BOOL, 2);
    p.writeI32(1);
    p.writeBool(true);
    p.writeI32(2);
    p.writeBool(false);
    p.writeMapEnd();
  });
  field(p, 46, T.MAP, () => {
    p.writeMapBegin(T.I32, T.I32, 0);
    p.writeMapEnd();
  });
  field(p, 47, T.SET, () => {
    p.writeSetBegin(T.STRING, 1);
    p.writeString('s');
    p.writeSetEnd();
  });
  field(p, 48, T.STRUCT, () => {
    p.writeStructBegin('inner');
    field(p, 1, T.STRING, () => p.writeString('in'));
    field(p, 2, T.LIST, () => {
      p.writeListBegin(T.STRUCT, 1);
      p.writeStructBegin('deeper');
      field(p, 3, T.I32, () => p.writeI32(9));
      p.writeFieldStop();
      p.writeStructEnd();
      p.writeListEnd();
    });
    p.writeFieldStop();
    p.writeStructEnd();
  });
  field(p, 49, T.I32, () => p.writeI32(2 ** 31 - 1));
  field(p, 50, T.I32, () => p.writeI32(-(2 ** 31)));
};

describe('ThriftReader on bytes written by Apache Thrift', () => {
  const bytes = compact(sample);

  it('reads every value type and field id', () => {
    const r = new ThriftReader(bytes, 0, bytes.length);
    const seen: Record<number, unknown> = {};
    let id = 0;
    for (let t = r.field(id); t !== CompactType.Stop; t = r.field(id)) {
      id = r.fieldId;
      if (t === CompactType.I32 || t === CompactType.I16) seen[id] = r.i32();
      else if (t === CompactType.I64) seen[id] = r.i64();
      else if (t === CompactType.Binary) seen[id] = r.string();
      else if (t === CompactType.BoolTrue || t === CompactType.BoolFalse) seen[id] = t === CompactType.BoolTrue;
      else if (t === CompactType.Byte) seen[id] = r.i8();
      else if (id === 40) {
        const n = r.listSize();
        expect(r.elemType).toBe(CompactType.I32);
        seen[id] = Array.from({ length: n }, () => r.i32());
      } else {
        seen[id] = `skipped ${t}`;
        r.skip(t);
      }
    }
    expect(r.pos).toBe(bytes.length);
    expect(seen).toEqual({
      1: -5,
      2: 2 ** 52 - 1,
      3: -(2 ** 52),
      4: 'schema',
      5: 'né',
      6: long,
      7: true,
      8: false,
      9: -3,
      10: 127,
      11: `skipped ${CompactType.Double}`,
      12: -300,
      40: Array.from({ length: 20 }, (_, i) => i * 1000 - 7000),
      41: `skipped ${CompactType.List}`,
      42: `skipped ${CompactType.List}`,
      43: `skipped ${CompactType.List}`,
      44: `skipped ${CompactType.Map}`,
      45: `skipped ${CompactType.Map}`,
      46: `skipped ${CompactType.Map}`,
      47: `skipped ${CompactType.Set}`,
      48: `skipped ${CompactType.Struct}`,
      49: 2 ** 31 - 1,
      50: -(2 ** 31),
    });
  });

  it('skips a whole struct to its stop byte, and reads within a window of a larger buffer', () => {
    const r = new ThriftReader(bytes, 0, bytes.length);
    r.skipStruct();
    expect(r.pos).toBe(bytes.length);
    const framed = new Uint8Array(bytes.length + 6);
    framed.set(bytes, 3);
    const w = new ThriftReader(framed, 3, 3 + bytes.length + 1);
    w.skipStruct();
    expect(w.pos).toBe(3 + bytes.length);
    expect(w.field(0)).toBe(CompactType.Stop); // the zero byte after it
    expect(() => w.field(0)).toThrow('unexpected end of data');
  });

  it('refuses every truncation with a ThriftError, never an out-of-range read', () => {
    let refused = 0;
    for (let end = 0; end < bytes.length; end++) {
      const r = new ThriftReader(bytes, 0, end);
      try {
        r.skipStruct();
        throw new Error(`truncated at ${end} of ${bytes.length} and not refused`);
      } catch (e) {
        expect(e).toBeInstanceOf(ThriftError);
        refused++;
      }
      expect(r.pos).toBeLessThanOrEqual(end);
    }
    expect(refused).toBe(bytes.length);
  });

  it('checks its window against the buffer', () => {
    expect(() => new ThriftReader(bytes, -1, 2)).toThrow(ThriftError);
    expect(() => new ThriftReader(bytes, 0, bytes.length + 1)).toThrow('range outside the buffer');
    expect(() => new ThriftReader(bytes, 3, 2)).toThrow('range outside the buffer');
    expect(new ThriftReader(bytes, 2, 2).pos).toBe(2);
    expect(new ThriftReader(bytes, bytes.length, bytes.length).pos).toBe(bytes.length);
  });
});

describe('ThriftReader bounds', () => {
  it('refuses an i64 beyond 2^53 rather than rounding it, and reads the largest exact ones', () => {
    const ok = compact((p) => field(p, 1, T.I64, () => p.writeI64(Number.MAX_SAFE_INTEGER)));
    const r = new ThriftReader(ok, 0, ok.length);
    r.field(0);
    // zigzag of 2^53-1 is 2^54-2: beyond a safe integer, so refused even though the value itself is safe
    expect(() => r.i64()).toThrow('64-bit integer too large to represent exactly');
    // zigzag of 2^52 is 2^53, just beyond; of -2^52 it is 2^53 - 1, the largest accepted
    const over = compact((p) => field(p, 1, T.I64, () => p.writeI64(2 ** 52)));
    const o = new ThriftReader(over, 0, over.length);
    o.field(0);
    expect(() => o.i64()).toThrow('64-bit integer too large to represent exactly');
    const min = compact((p) => field(p, 1, T.I64, () => p.writeI64(-(2 ** 52))));
    const m = new ThriftReader(min, 0, min.length);
    m.field(0);
    expect(m.i64()).toBe(-(2 ** 52));
  });

  it('refuses varints that run too long and 32-bit ones out of range', () => {
    const tooLong = new Uint8Array([0x15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0]);
    const r = new ThriftReader(tooLong, 0, tooLong.length);
    expect(r.field(0)).toBe(CompactType.I32);
    expect(() => r.i32()).toThrow('32-bit varint longer than 5 bytes');
    const big = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]); // 2^35 - 1
    expect(() => new ThriftReader(big, 0, big.length).i32()).toThrow('32-bit varint out of range');
    const max32 = new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0x0f]); // 2^32 - 2: zigzag of 2^31 - 1
    expect(new ThriftReader(max32, 0, max32.length).i32()).toBe(2 ** 31 - 1);
    const eleven = new Uint8Array([...Array(10).fill(0x80), 0x01]);
    expect(() => new ThriftReader(eleven, 0, eleven.length).i64()).toThrow('varint longer than 10 bytes');
    expect(() => new ThriftReader(eleven, 0, eleven.length).skip(CompactType.I64)).toThrow('varint longer than 10 bytes');
    const ten = new Uint8Array([...Array(9).fill(0x80), 0x01]);
    const s = new ThriftReader(ten, 0, ten.length);
    s.skip(CompactType.I64);
    expect(s.pos).toBe(10);
  });

  it('refuses lengths and counts larger than what is left', () => {
    const bin = new Uint8Array([5, 1, 2, 3, 4]);
    expect(() => new ThriftReader(bin, 0, bin.length).string()).toThrow('binary of 5 bytes runs past the end (4 left)');
    const fits = new Uint8Array([4, 0x61, 0x62, 0x63, 0x64]);
    expect(new ThriftReader(fits, 0, fits.length).string()).toBe('abcd');
    const list = new Uint8Array([0xf5, 0x05, 1, 2, 3, 4]); // 5 i32s announced, 4 bytes left
    expect(() => new ThriftReader(list, 0, list.length).listSize()).toThrow('list of 5 elements runs past the end (4 bytes left)');
    const list4 = new Uint8Array([0x45, 1, 2, 3, 4]);
    expect(new ThriftReader(list4, 0, list4.length).listSize()).toBe(4);
    const map = new Uint8Array([3, 0x55, 1, 2, 3, 4, 5]); // 3 entries of (i32, i32): at least 6 bytes, 5 left
    expect(() => new ThriftReader(map, 0, map.length).skip(CompactType.Map)).toThrow('map of 3 entries runs past the end');
    const doubles = new Uint8Array([0x27, ...Array(15).fill(0)]); // 2 doubles need 16 bytes, 15 left
    expect(() => new ThriftReader(doubles, 0, doubles.length).skip(CompactType.List)).toThrow('value of 16 bytes runs past the end');
    expect(() => new ThriftReader(new Uint8Array(7), 0, 7).skip(CompactType.Double)).toThrow('value of 8 bytes runs past the end');
    expect(() => new ThriftReader(new Uint8Array(0), 0, 0).skip(CompactType.Byte)).toThrow('value of 1 bytes runs past the end');
  });

  it('refuses unknown types', () => {
    const r = new ThriftReader(new Uint8Array([0x1d, 0]), 0, 2);
    expect(r.field(0)).toBe(13);
    expect(() => r.skip(13)).toThrow('unknown compact type 13 at byte 1');
    expect(() => new ThriftReader(new Uint8Array(1), 0, 1).skip(0)).toThrow('unknown compact type 0');
  });

  it('follows nesting up to 64 structs deep and refuses deeper', () => {
    const nested = (depth: number): Uint8Array => {
      // field 1 of type struct, `depth` times, then the stop bytes
      const out = new Uint8Array(depth * 2 + 1);
      out.fill(0x1c, 0, depth);
      return out;
    };
    const ok = nested(63);
    const r = new ThriftReader(ok, 0, ok.length);
    r.skipStruct();
    expect(r.pos).toBe(127);
    expect(() => new ThriftReader(nested(64), 0, 129).skipStruct()).toThrow('structs nested deeper than 64');
  });
});

describe('skipping values (the fast path metadata decoding uses)', () => {
  const reader = (b: number[], end = b.length, extra: number[] = []): ThriftReader => new ThriftReader(new Uint8Array([...b, ...extra]), 0, end);
  const skipped = (b: number[], type: number): number => {
    const r = reader(b);
    r.skip(type);
    return r.pos;
  };

  it('skips values that exactly fill the window', () => {
    expect(skipped([0x02, 0x61, 0x62], CompactType.Binary)).toBe(3);
    expect(skipped([0x43, 1, 2, 3, 4], CompactType.List)).toBe(5);
    expect(skipped([0x01, 0x55, 0x02, 0x04], CompactType.Map)).toBe(4);
    expect(skipped([0, 0, 0, 0, 0, 0, 0, 0], CompactType.Double)).toBe(8);
    expect(skipped([0x32, 1, 0, 1], CompactType.List)).toBe(4); // list of booleans typed BoolFalse: one byte each
    expect(skipped([0x01, 0x25, 0x01, 0x04], CompactType.Map)).toBe(4); // map<bool, i32>, key typed BoolFalse
    expect(skipped([0x01, 0x12, 0x04, 0x01], CompactType.Map)).toBe(4); // map<bool, bool>, value typed BoolFalse
    expect(skipped([0x01, 0x58, 0x04, 0x02, 0x61, 0x62], CompactType.Map)).toBe(6); // map<i32, binary>
    expect(skipped([], CompactType.BoolTrue)).toBe(0);
    expect(skipped([], CompactType.BoolFalse)).toBe(0);
  });

  it('refuses a value that starts exactly at the end of the window, even when bytes follow it in the buffer', () => {
    const atEnd = (type: number, b: number[] = []): void => {
      const r = reader(b, b.length, [0x00, 0x01, 0x01, 0x01]);
      expect(() => r.skip(type)).toThrow('unexpected end of data');
    };
    atEnd(CompactType.I32);
    atEnd(CompactType.Binary);
    atEnd(CompactType.List);
    atEnd(CompactType.Map, [0x02]); // two entries announced, the key/value type byte lies past the end
    atEnd(CompactType.Struct);
  });

  it('refuses lengths, counts and varints that do not fit', () => {
    expect(() => reader([5, 1, 2, 3, 4]).skip(CompactType.Binary)).toThrow('binary of 5 bytes runs past the end (4 left)');
    expect(() => reader([0xf5, 0x05, 1, 2, 3, 4]).skip(CompactType.List)).toThrow('list of 5 elements runs past the end (4 bytes left)');
    expect(() => reader([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).skip(CompactType.Binary)).toThrow('32-bit varint longer than 5 bytes');
    expect(() => reader([0xff, 0xff, 0xff, 0xff, 0x1f]).skip(CompactType.Binary)).toThrow('32-bit varint out of range');
    expect(() => reader([0xff, 0xff, 0xff, 0xff, 0x0f]).skip(CompactType.Binary)).toThrow(`binary of ${0xffffffff} bytes runs past the end`);
  });

  it('counts nesting through lists too', () => {
    // field 1: a list holding a list … `k` deep, holding one empty struct
    const nested = (k: number): number[] => [0x19, ...Array(k).fill(0x19), 0x1c, 0x00, 0x00];
    const ok = reader(nested(10));
    ok.skipStruct();
    expect(ok.pos).toBe(nested(10).length);
    expect(() => reader(nested(70)).skipStruct()).toThrow('structs nested deeper than 64');
  });

  it('counts nesting through map keys and values too', () => {
    // field 1: map<i32, map<i32, … struct>>, `k` deep
    const values = (k: number): number[] => [0x1b, ...Array(k).fill([0x01, 0x5b, 0x02]).flat(), 0x01, 0x5c, 0x02, 0x00, 0x00];
    // field 1: map<map<… struct, i32>, i32>, `k` deep: each level's i32 value follows its key
    const keys = (k: number): number[] => [0x1b, ...Array(k).fill([0x01, 0xb5]).flat(), 0x01, 0xc5, 0x00, 0x02, ...Array(k).fill(0x02), 0x00];
    for (const nested of [values, keys]) {
      const ok = reader(nested(10));
      ok.skipStruct();
      expect(ok.pos).toBe(nested(10).length);
      expect(() => reader(nested(70)).skipStruct()).toThrow('structs nested deeper than 64');
    }
  });

  it('decodes malformed UTF-8 to U+FFFD and names its errors', () => {
    expect(reader([0x02, 0xff, 0xfe]).string()).toBe('\ufffd\ufffd');
    const e = (() => {
      try {
        reader([]).skip(CompactType.I32);
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(ThriftError);
    expect(e!.name).toBe('ThriftError');
  });
});

// Skipping a struct takes integers, booleans and short binaries inline and skips lists of integers or
// binaries in a loop (issue 10: most of a footer decode is skipping column metadata). These pin the
// inlined paths to what the general path does: where each value ends, and each error at each cut.
describe('skipping fields inside a struct (the inlined paths)', () => {
  const long = Array(200).fill(0x41);
  // 1: i64 300 | 2: true | 3: "ab" | 4: 200 bytes (two-byte length) | 5: list<i32> [1, 300] |
  // 6: list<binary> ["x", "yz"] | 7: i16 -1 | stop
  const body = [0x16, 0xd8, 0x04, 0x11, 0x18, 0x02, 0x61, 0x62, 0x18, 0xc8, 0x01, ...long, 0x19, 0x25, 0x02, 0xd8, 0x04, 0x19, 0x28, 0x01, 0x78, 0x02, 0x79, 0x7a, 0x14, 0x01, 0x00];
  const at = (b: number[], end: number): ThriftReader => new ThriftReader(new Uint8Array([...b, 0x01, 0x01, 0x01]), 0, end);
  const cut = (end: number): string => {
    try {
      at(body, end).skipStruct();
    } catch (e) {
      expect(e).toBeInstanceOf(ThriftError);
      return (e as Error).message;
    }
    return 'not refused';
  };

  it('skips each kind of field to the stop byte, also when the window ends just after it', () => {
    const r = at(body, body.length);
    r.skipStruct();
    expect(r.pos).toBe(body.length);
    // Apache Thrift's writer agrees on the bytes: a struct of the same fields skipped to its end
    const bytes = compact((p) => {
      field(p, 1, T.I64, () => p.writeI64(300));
      field(p, 2, T.BOOL, () => p.writeBool(true));
      field(p, 3, T.STRING, () => p.writeString('ab'));
      field(p, 4, T.STRING, () => p.writeString('A'.repeat(200)));
      field(p, 5, T.LIST, () => {
        p.writeListBegin(T.I32, 2);
        p.writeI32(1);
        p.writeI32(300);
        p.writeListEnd();
      });
      field(p, 6, T.LIST, () => {
        p.writeListBegin(T.STRING, 2);
        p.writeString('x');
        p.writeString('yz');
        p.writeListEnd();
      });
      field(p, 7, T.I16, () => p.writeI16(-1));
    });
    expect(Array.from(bytes)).toEqual(body);
  });

  it('refuses every cut with the error the value met there gives', () => {
    expect(cut(0)).toBe('unexpected end of data');
    expect(cut(2)).toBe('unexpected end of data'); // inside the i64's varint
    expect(cut(5)).toBe('unexpected end of data'); // before the binary's length
    expect(cut(6)).toBe('binary of 2 bytes runs past the end (0 left)');
    expect(cut(7)).toBe('binary of 2 bytes runs past the end (1 left)'); // one byte short: not skipped past the end
    expect(cut(8)).toBe('unexpected end of data'); // "ab" fits exactly; the next header does not
    expect(cut(10)).toBe('unexpected end of data'); // inside the two-byte length
    expect(cut(11 + 199)).toBe('binary of 200 bytes runs past the end (199 left)');
    expect(cut(11 + 200 + 3)).toBe('list of 2 elements runs past the end (1 bytes left)');
    expect(cut(11 + 200 + 4)).toBe('unexpected end of data'); // inside the list's second varint
    expect(cut(11 + 200 + 9)).toBe('unexpected end of data'); // before "yz"'s length
    expect(cut(11 + 200 + 11)).toBe('binary of 2 bytes runs past the end (1 left)'); // "yz" cut
    expect(cut(body.length - 1)).toBe('unexpected end of data'); // no stop byte
    for (let end = 0; end < body.length; end++) expect(cut(end)).not.toBe('not refused');
  });

  it('refuses an integer field whose varint runs past 10 bytes, or past the window', () => {
    const eleven = [0x16, ...Array(10).fill(0x80), 0x01, 0x00];
    expect(() => at(eleven, eleven.length).skipStruct()).toThrow('varint longer than 10 bytes');
    const ten = [0x16, ...Array(9).fill(0x80), 0x01, 0x00];
    const r = at(ten, ten.length);
    r.skipStruct();
    expect(r.pos).toBe(ten.length);
    expect(() => at(ten, 6).skipStruct()).toThrow('unexpected end of data');
  });
});
