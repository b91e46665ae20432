// websocket-driver, loaded on the first call that needs it: the server's 101
// (handshake.ts switchingProtocols) and its two request tests (isWebSocket,
// isSecureRequest). A client never calls them, so a process that only opens
// clients never loads the driver, nor http-parser-js under it, which together
// are most of what `require('isosocket')` used to cost (issue 24;
// bench/import.mjs measures it, docs/decisions/handshake-offers.md has the
// figures).
//
// Why a .cts file: the load is a synchronous require() of the package, from
// this file's own location (so that it resolves where isosocket is installed,
// under any package manager's layout). The build is CommonJS, where import.meta
// is not allowed; the specs run src/ as ES modules, where __filename and
// require are not defined. A .cts file is CommonJS under both, so `require`
// is always this module's own. Its default export (`export =`) is what an ES
// module importing CommonJS sees as its default, and what esModuleInterop's
// default import sees in the build.
//
// References:
// - Node.js docs, "Modules: CommonJS modules" (require, module resolution)
// - TypeScript handbook, "Modules - Reference" (.cts, export =)

import type websocketDriver from 'websocket-driver';

type DriverModule = typeof websocketDriver;

let loaded: DriverModule | undefined;

/** websocket-driver's module, loaded once, on the first call. */
function load(): DriverModule {
  loaded ??= require('websocket-driver') as DriverModule;
  return loaded;
}

export = { websocketDriver: load };
