// Our own declarations for the untyped protocol driver and its extension
// packages. Internal only: no public type of isosocket refers to them.
//
// References:
// - faye/websocket-driver-node README (the driver API we call)
// - faye/websocket-extensions-node README (the extension plugin contract)

declare module 'websocket-driver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';

  export interface DriverOptions {
    maxLength?: number;
    protocols?: string | readonly string[];
    masking?: boolean;
    requireMasking?: boolean;
  }

  export interface DriverCloseEvent {
    code: number;
    reason: string;
  }

  export interface DriverMessageEvent {
    data: string | Buffer;
  }

  /** An old-style stream: 'data' carries bytes the driver wants written. */
  export interface DriverIO extends EventEmitter {
    readable: boolean;
    writable: boolean;
  }

  export interface Extension {
    name: string;
    type: string;
    rsv1: boolean;
    rsv2: boolean;
    rsv3: boolean;
  }

  export interface Driver extends EventEmitter {
    /** -1 before start (client), 0 connecting, 1 open, 2 closing, 3 closed. */
    readyState: number;
    readonly url: string;
    readonly version: string;
    readonly protocol: string | undefined | null;
    readonly io: DriverIO;
    /** Handshake response status and headers (client only, set on completion). */
    readonly statusCode?: number;
    readonly headers?: Record<string, string>;

    addExtension(extension: Extension): boolean;
    setHeader(name: string, value: string): boolean;
    start(): boolean;
    parse(chunk: Buffer): void;
    text(message: string): boolean;
    binary(message: Buffer): boolean;
    ping(message?: string | Buffer, callback?: () => void): boolean;
    pong(message?: string | Buffer): boolean;
    close(reason?: string, code?: number): boolean;

    on(event: 'open', listener: () => void): this;
    on(event: 'message', listener: (event: DriverMessageEvent) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: (event: DriverCloseEvent) => void): this;
    on(event: 'ping' | 'pong', listener: (event: { data: string }) => void): this;
  }

  interface DriverModule {
    http(request: IncomingMessage, options?: DriverOptions): Driver;
    client(url: string, options?: DriverOptions): Driver;
    isWebSocket(request: IncomingMessage): boolean;
    isSecureRequest(request: IncomingMessage): boolean;
    validateOptions(options: object, validKeys: readonly string[]): void;
  }

  const driver: DriverModule;
  export default driver;
}

declare module 'permessage-deflate' {
  import type { Extension } from 'websocket-driver';

  export interface DeflateOptions {
    level?: number;
    memLevel?: number;
    strategy?: number;
    noContextTakeover?: boolean;
    requestNoContextTakeover?: boolean;
    maxWindowBits?: number;
    requestMaxWindowBits?: number;
  }

  const deflate: Extension & { configure(options: DeflateOptions): Extension };
  export default deflate;
}
