// Finds a program as a shell would: a name is looked up on PATH, a path is
// taken as it is. Shared by the Chromium launcher and the specs' peer checks.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The executable file `command` names (on `path`, PATH by default), or undefined when there is none. */
export function which(command, path = process.env.PATH) {
  const candidates = command.includes('/')
    ? [command]
    : (path ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}
