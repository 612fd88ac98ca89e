/**
 * The raw bytes of one embedded-message field of an encoded protobuf message, found by
 * walking the top-level wire format without decoding anything. persist-offline stores
 * an OfflineMessage's `content` exactly as routed, and slicing it out of the record is
 * far cheaper than re-encoding the decoded object (each protobuf writer allocates
 * off-heap buffers, which the garbage collector then has to track).
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/**
 * The payload of `field` (wire type 2) when it occurs exactly once; undefined when it is
 * absent, repeated (a parser merges repeated message fields, a slice would not) or the
 * bytes are not plain wire format (groups, truncation): the caller then re-encodes.
 */
export function singleFieldBytes(buf: Buffer, field: number): Buffer | undefined {
  let pos = 0;
  let found: Buffer | undefined;
  const end = buf.length;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return -1;
      const b = buf[pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    return -1;
  };
  while (pos < end) {
    const key = varint();
    if (key < 0) return undefined;
    const wireType = key % 8;
    const number = Math.floor(key / 8);
    switch (wireType) {
      case VARINT:
        if (varint() < 0) return undefined;
        break;
      case FIXED64:
        pos += 8;
        break;
      case FIXED32:
        pos += 4;
        break;
      case LENGTH_DELIMITED: {
        const len = varint();
        if (len < 0 || pos + len > end) return undefined;
        if (number === field) {
          if (found) return undefined;
          found = buf.subarray(pos, pos + len);
        }
        pos += len;
        break;
      }
      default:
        return undefined;
    }
  }
  return pos === end ? found : undefined;
}
