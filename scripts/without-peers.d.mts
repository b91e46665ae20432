export declare const ESSENTIALS: string[];
export declare const PEER_COMMANDS: string[];
export declare function hidePeers(
  env?: Record<string, string | undefined>,
  essentials?: string[],
): { dir: string; env: Record<string, string | undefined> };
