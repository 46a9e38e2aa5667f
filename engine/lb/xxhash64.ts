// xxHash64, the hash Envoy uses for hash policies, ring hash and maglev (HashUtil::xxHash64).
// xxhash-wasm loads its WebAssembly module asynchronously, so the engine awaits initHashing() once at
// startup; after that hashing is synchronous, as the request path needs.

import xxhash from 'xxhash-wasm';

type H64 = (input: string, seed?: bigint) => bigint;

let h64: H64 | undefined;
let loading: Promise<void> | undefined;

/** Load the hashing module. Safe to call many times; resolves once it is ready. */
export function initHashing(): Promise<void> {
  loading ??= xxhash().then((api) => {
    h64 = api.h64;
  });
  return loading;
}

/** True once initHashing() has resolved. */
export function hashingReady(): boolean {
  return h64 !== undefined;
}

/** xxHash64 of the UTF-8 bytes of `input` as an unsigned 64-bit bigint. */
export function xxhash64(input: string, seed: bigint = 0n): bigint {
  if (h64 === undefined) {
    throw new Error('xxhash64 used before initialisation: await initHashing() once at startup (engine/lb/xxhash64.ts)');
  }
  return h64(input, seed);
}
