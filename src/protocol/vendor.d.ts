// Our own declarations for the untyped protocol packages, for src/protocol/
// only (Biome refuses their import anywhere else). No public type of
// isosocket refers to them. They are loaded through vendor.cts, on first use,
// typed by the declarations here.
//
// References:
// - faye/websocket-driver-node README (the driver API called here)
// - faye/websocket-extensions-node README (the extension plugin contract)
// (permessage-deflate's declaration is public: src/types/permessage-deflate.d.ts.)

declare module 'websocket-driver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';

  /** What Server.http and the Hybi driver read of a request (an IncomingMessage has all of it). */
  export interface DriverRequest {
    method?: string | undefined;
    url?: string | undefined;
    headers: Record<string, string | string[] | undefined>;
  }

  export interface DriverOptions {
    maxLength?: number;
    protocols?: string | readonly string[];
  }

  /** An old-style stream: 'data' carries bytes the driver wants written. */
  export interface DriverIO extends EventEmitter {
    on(event: 'data', listener: (chunk: Buffer) => void): this;
  }

  export interface ServerDriver extends EventEmitter {
    readonly protocol: string | undefined | null;
    readonly io: DriverIO;
    setHeader(name: string, value: string): boolean;
    start(): boolean;
  }

  interface DriverModule {
    http(request: DriverRequest, options?: DriverOptions): ServerDriver;
    isWebSocket(request: IncomingMessage): boolean;
    isSecureRequest(request: IncomingMessage): boolean;
  }

  const driver: DriverModule;
  export default driver;
}

declare module 'websocket-extensions' {
  export interface ExtensionMessage {
    rsv1: boolean;
    rsv2: boolean;
    rsv3: boolean;
    opcode: number;
    data: Buffer;
  }

  export interface Plugin {
    name: string;
    type: string;
    rsv1: boolean;
    rsv2: boolean;
    rsv3: boolean;
  }

  type Callback = (error: Error | null, message: ExtensionMessage | null) => void;

  export default class Extensions {
    constructor(options?: { maxLength?: number });
    add(plugin: Plugin): void;
    generateOffer(): string | null;
    activate(header: string | undefined): void;
    generateResponse(header: string | undefined): string | null;
    validFrameRsv(frame: { opcode: number; rsv1: boolean; rsv2: boolean; rsv3: boolean }): boolean;
    processIncomingMessage(message: ExtensionMessage, callback: Callback): void;
    processOutgoingMessage(message: ExtensionMessage, callback: Callback): void;
    close(callback: () => void): void;
  }
}
