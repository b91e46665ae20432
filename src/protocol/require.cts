// A `require` that resolves from inside this package, for both builds: a .cts
// file always compiles to CommonJS, where `require` is the module's own.
// Used only to load websocket-driver's package.json and Hybi (see mask.ts).

const requireFromPackage: NodeJS.Require = require;
export = requireFromPackage;
