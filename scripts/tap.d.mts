export declare const PEERS: ReadonlyArray<readonly [string, string]>;
export declare function coverageGate(
  env?: Record<string, string | undefined>,
  found?: (command: string) => string | undefined,
): { args: string[]; line: string | undefined };
export declare const UNENFORCED: string[];
