export declare function which(command: string): string | undefined;
