/** Builds the console bundle into build/console; false when esbuild is not installed. */
export declare function buildConsole(): Promise<boolean>;
export declare const OUT: string;
