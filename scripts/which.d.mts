export declare function which(command: string, path?: string): string | undefined;
