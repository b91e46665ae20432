// The protocol packages, each loaded on the first call that needs it, not by
// `require('isosocket')` (issue 24; bench/import.mjs measures it,
// docs/decisions/handshake-offers.md has the figures):
// - websocket-driver (and http-parser-js under it): the server's 101
//   (handshake.ts switchingProtocols) and its two request tests
//   (isWebSocket, isSecureRequest). A client never calls them, so a process
//   that only opens clients never loads the driver.
// - websocket-extensions and permessage-deflate: the first negotiation, or
//   the first perMessageDeflate option resolved (extensions.ts).
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

import type permessageDeflate from 'permessage-deflate';
import type websocketDriver from 'websocket-driver';
import type Extensions from 'websocket-extensions';

type DriverModule = typeof websocketDriver;

let driver: DriverModule | undefined;
let extensions: typeof Extensions | undefined;
let deflate: typeof permessageDeflate | undefined;

/** websocket-driver's module, loaded once, on the first call. */
function loadDriver(): DriverModule {
  driver ??= require('websocket-driver') as DriverModule;
  return driver;
}

/** websocket-extensions' Extensions class, loaded once, on the first call. */
function loadExtensions(): typeof Extensions {
  extensions ??= require('websocket-extensions') as typeof Extensions;
  return extensions;
}

/** The permessage-deflate plugin, loaded once, on the first call. */
function loadDeflate(): typeof permessageDeflate {
  deflate ??= require('permessage-deflate') as typeof permessageDeflate;
  return deflate;
}

export = { websocketDriver: loadDriver, websocketExtensions: loadExtensions, permessageDeflate: loadDeflate };
