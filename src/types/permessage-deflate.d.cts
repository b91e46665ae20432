// Types for permessage-deflate, which ships none, so that
// `import deflate from 'permessage-deflate'` compiles under `strict` in any
// project that imports isosocket (the README's first example does). Shipped
// in dist/ and referenced from isosocket's entry declarations.
//
// References:
// - faye/permessage-deflate-node README (configure options)

declare module 'permessage-deflate' {
  /** Options of `deflate.configure()`. */
  interface PermessageDeflateOptions {
    level?: number;
    memLevel?: number;
    strategy?: number;
    noContextTakeover?: boolean;
    requestNoContextTakeover?: boolean;
    maxWindowBits?: number;
    requestMaxWindowBits?: number;
    zlib?: unknown;
  }

  /** A websocket-extensions plugin: pass it in `extensions`. */
  interface PermessageDeflate {
    readonly name: 'permessage-deflate';
    readonly type: 'permessage';
    readonly rsv1: true;
    readonly rsv2: false;
    readonly rsv3: false;
    configure(options: PermessageDeflateOptions): PermessageDeflate;
  }

  const deflate: PermessageDeflate;
  export = deflate;
}
