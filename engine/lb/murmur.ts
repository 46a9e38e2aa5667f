// Envoy's MurmurHash::murmurHash2 (source/common/common/hash.cc): the 64-bit MurmurHash2 variant of
// libstdc++'s std::hash<std::string>, used by ring hash's MURMUR_HASH_2 so rings match Envoy's and old
// std::hash-based rings. BigInt arithmetic: it only runs when a ring is built, never per request.

const MASK = 0xffffffffffffffffn;
const MUL = 0xc6a4a7935bd1e995n;
/** Envoy's MurmurHash::STD_HASH_SEED. */
export const STD_HASH_SEED = 0xc70f6907n;

const encoder = new TextEncoder();

function shiftMix(v: bigint): bigint {
  return v ^ (v >> 47n);
}

/** Little-endian load of `n` bytes (1..8) starting at `at`. */
function load(bytes: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
  return v;
}

export function murmurHash2(key: string, seed: bigint = STD_HASH_SEED): bigint {
  const bytes = encoder.encode(key);
  const len = bytes.length;
  const aligned = len & ~7;
  let hash = (seed ^ (BigInt(len) * MUL)) & MASK;
  for (let p = 0; p < aligned; p += 8) {
    const data = (shiftMix((load(bytes, p, 8) * MUL) & MASK) * MUL) & MASK;
    hash = ((hash ^ data) * MUL) & MASK;
  }
  if ((len & 7) !== 0) {
    hash = ((hash ^ load(bytes, aligned, len & 7)) * MUL) & MASK;
  }
  hash = (shiftMix(hash) * MUL) & MASK;
  return shiftMix(hash);
}
