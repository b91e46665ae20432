// WebSocket masking with WebAssembly SIMD, a pure module: a 16-byte XOR over
// a 64 KiB block of the module's own memory, the payload copied through it a
// block at a time. For `mask.ts`, which calls it for large payloads only (a
// WebAssembly call costs more than the JavaScript loop on small ones).
//
// Calling contract:
//   simdMasker()                       the masker, compiled on first use; null where
//                                      WebAssembly or its SIMD proposal is missing
//                                      (e.g. `node --jitless`): use the JavaScript loop
//   masker(payload, offset, word)      XORs payload[offset..] with `word` (the 4-byte
//                                      key read little-endian) in whole 16-byte steps;
//                                      returns the index where it stopped (at most 15
//                                      bytes before the end): the caller masks the rest
//
// Why WebAssembly and not a native addon: no build step for applications and
// it runs the same on Node, Bun and Deno. WebAssembly reads only its own
// memory, so each block is copied in and out (two memcpys); it is still five
// to eight times the JavaScript word loop from 1 KiB up, within reach of the
// native `bufferutil` (measurements: docs/decisions/masking.md).
//
// The module (hand-written; 186 bytes):
//
//   (module
//     (memory (export "m") 2 2)                ;; two 64 KiB pages, never grown
//     (func (export "x") (param $i i32) (param $end i32) (param $key i32)
//       (local $k v128)
//       (local.set $k (i32x4.splat (local.get $key)))
//       (block (loop                           ;; 64 bytes a turn
//         (br_if 1 (i32.gt_u (i32.add (local.get $i) (i32.const 64)) (local.get $end)))
//         (v128.store offset=0 (local.get $i)
//           (v128.xor (v128.load offset=0 (local.get $i)) (local.get $k)))
//         ... the same at offset=16, 32, 48
//         (local.set $i (i32.add (local.get $i) (i32.const 64)))
//         (br 0)))
//       (block (loop                           ;; then 16 bytes a turn
//         (br_if 1 (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
//         (v128.store (local.get $i) (v128.xor (v128.load (local.get $i)) (local.get $k)))
//         (local.set $i (i32.add (local.get $i) (i32.const 16)))
//         (br 0)))))
//
// Where the block sits in that memory matters: on AMD Zen, glibc's memcpy
// (`rep movsb` from 4 KiB up) runs eight times slower when source and
// destination lie a few bytes apart modulo 4 KiB, which is where a 1 MiB
// Buffer (mmap'd: its data 16 bytes past a page boundary) and a
// page-aligned block would lie. The block is placed at 0 or at 2 KiB,
// whichever is farther from the payload's position modulo 4 KiB (assuming
// that mmap layout; any other base is as likely to be far as near).
//
// References:
// - RFC 6455 §5.3, client-to-server masking: https://www.rfc-editor.org/rfc/rfc6455#section-5.3
// - WebAssembly Core Specification 2.0, §5 binary format (sections, instructions, SIMD
//   opcodes 0xFD): https://webassembly.github.io/spec/core/binary/index.html
// - websockets/bufferutil src/bufferutil.c (the native mask ws uses when installed)

/** The size of each block copied through the module's memory. */
export const BLOCK = 64 * 1024;

/** The second place the block can sit, 2 KiB off the first modulo 4 KiB. */
const SHIFTED = 2048;

const I32 = 0x7f;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_GT_U = 0x4b;
const BLOCK_VOID = [0x02, 0x40];
const LOOP_VOID = [0x03, 0x40];
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_XOR = 0x51;
const I32X4_SPLAT = 0x11;
const ALIGN_16 = 0x04; // log2 of the alignment hint

// Locals: 0 $i, 1 $end, 2 $key (the parameters), 3 $k.
/** `(v128.store offset (local.get $i) (v128.xor (v128.load offset (local.get $i)) (local.get $k)))` */
// biome-ignore format: one instruction a line
const xorAt = (offset: number): number[] => [
  LOCAL_GET, 0,
  LOCAL_GET, 0, SIMD, V128_LOAD, ALIGN_16, offset,
  LOCAL_GET, 3,
  SIMD, V128_XOR,
  SIMD, V128_STORE, ALIGN_16, offset,
];

/** A loop that XORs `step` bytes a turn while `$i + step <= $end` (step 16 or 64: one LEB128 byte each, as below). */
const loop = (step: number): number[] => {
  const constant = step < 64 ? [step] : [step | 0x80, step >> 7]; // signed LEB128: 64 needs two bytes
  const body: number[] = [];
  for (let offset = 0; offset < step; offset += 16) body.push(...xorAt(offset));
  // biome-ignore format: one instruction a line
  return [
    ...BLOCK_VOID,
    ...LOOP_VOID,
    LOCAL_GET, 0, I32_CONST, ...constant, I32_ADD, LOCAL_GET, 1, I32_GT_U, BR_IF, 1,
    ...body,
    LOCAL_GET, 0, I32_CONST, ...constant, I32_ADD, LOCAL_SET, 0,
    BR, 0,
    END,
    END,
  ];
};

// biome-ignore format: one instruction a line
const FUNCTION_BODY = [
  0x01, 0x01, V128, // locals: one v128
  LOCAL_GET, 2, SIMD, I32X4_SPLAT, LOCAL_SET, 3,
  ...loop(64),
  ...loop(16),
  END,
];

/** Unsigned LEB128, for section and body sizes. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

/** The module's bytes (exported for the unit spec). */
export function moduleBytes(): Uint8Array {
  // biome-ignore format: one section a line
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [0x01, 0x60, 0x03, I32, I32, I32, 0x00]), // types: (i32, i32, i32) -> ()
    ...section(3, [0x01, 0x00]), // functions: one, of type 0
    ...section(5, [0x01, 0x01, 0x02, 0x02]), // memories: one, min 2 max 2 pages
    ...section(7, [0x02, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x78, 0x00, 0x00]), // exports: "m" memory 0, "x" function 0
    ...section(10, [0x01, ...uleb(FUNCTION_BODY.length), ...FUNCTION_BODY]), // code
  ]);
}

/** XORs payload[offset..] in 16-byte steps with `word`; returns where it stopped. */
export type SimdMasker = (payload: Buffer, offset: number, word: number) => number;

/** The part of the WebAssembly JavaScript API used here (not in @types/node 20). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

let masker: SimdMasker | null | undefined;

/** The WebAssembly masker, compiled on first use; null where it cannot run. */
export function simdMasker(): SimdMasker | null {
  if (masker === undefined) masker = compile();
  return masker;
}

function compile(): SimdMasker | null {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    // Synchronous compilation: the module is 186 bytes (well under the 4 KiB
    // browsers allow off the main thread's async path).
    const instance = new wasm.Instance(new wasm.Module(moduleBytes()), {});
    const memory = instance.exports.m as { buffer: ArrayBuffer };
    const xor = instance.exports.x as (start: number, end: number, word: number) => void;
    const blocks = [new Uint8Array(memory.buffer, 0, BLOCK), new Uint8Array(memory.buffer, SHIFTED, BLOCK)];
    return (payload, offset, word) => {
      const end = payload.length;
      // 16: where glibc puts an mmap'd allocation's data past its page.
      const page = (payload.byteOffset + offset + 16) & 4095;
      const shifted = page < 1024 || page >= 3072;
      const block = blocks[shifted ? 1 : 0] as Uint8Array;
      const base = shifted ? SHIFTED : 0;
      let at = offset;
      while (end - at >= 16) {
        let count = Math.min(BLOCK, end - at);
        count -= count & 15;
        const part = payload.subarray(at, at + count);
        block.set(part);
        xor(base, base + count, word);
        part.set(block.subarray(0, count));
        at += count;
      }
      return at;
    };
  } catch {
    // No SIMD (an engine before 2021): the module does not compile, and
    // mask.ts keeps its JavaScript loop. (`node --jitless` has no WebAssembly
    // global at all: the check above.)
    return null;
  }
}
