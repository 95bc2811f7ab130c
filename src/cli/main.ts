#!/usr/bin/env node
// The `rules` command: parse arguments, run a command, map the outcome to an
// exit status. User errors are printed without a stack trace.

// Only what every command needs is imported here: each command loads the
// rest when it runs. A build first starts the threads that will check the
// up-to-date stamp (state/stamp-check.ts), so that they start while the
// build's modules load.

import { dirname, resolve } from 'node:path';
import { COMMANDS, commandHelp, flag, mainHelp, nearCommand, parseArgs, value, type ParsedArgs } from './args.js';
import { EXIT_OUTPUT_CLOSED, guardStdio, outputClosed, printDiagnostics } from './stdio.js';
import { stampPath } from '../state/paths.js';
import { startCheckThreads } from '../state/stamp-check.js';
import { UserError } from '../util/errors.js';
import { version } from '../util/version.js';

export async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    return reportError(e);
  }
  try {
    changeDirectory(args);
  } catch (e) {
    return reportError(e);
  }
  if (args.flags.has('version')) {
    process.stdout.write(`rules ${version()}\n`);
    return 0;
  }
  const name = args.command ?? 'build';
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    // `rules TARGET` builds TARGET, like make.
    if (args.command !== undefined && !args.flags.has('help')) {
      // Only a word close to a command costs a look at the project: `rules all` stays as fast as `rules build all`.
      if (nearCommand(args.command) !== undefined) {
        try {
          const { checkMistypedCommand } = await import('./commands.js');
          checkMistypedCommand(args);
        } catch (e) {
          return reportError(e);
        }
      }
      return run({ ...args, command: 'build', positionals: [args.command, ...args.positionals] });
    }
    process.stdout.write(mainHelp(version()));
    return 0;
  }
  if (args.flags.has('help')) {
    process.stdout.write(args.command === undefined ? mainHelp(version()) : commandHelp(cmd));
    return 0;
  }
  if (cmd.name === 'help') {
    // `rules help [COMMAND]`: the same as `rules [COMMAND] --help`.
    const about = args.positionals[0];
    if (about === undefined) {
      process.stdout.write(mainHelp(version()));
      return 0;
    }
    const other = COMMANDS.find((c) => c.name === about);
    if (!other) {
      const near = nearCommand(about);
      return reportError(new UserError(`unknown command '${about}'${near ? ` (did you mean '${near}'?)` : ''}; see 'rules --help'`));
    }
    process.stdout.write(commandHelp(other));
    return 0;
  }
  return run({ ...args, command: name });
}

async function run(args: ParsedArgs): Promise<number> {
  const cmd = COMMANDS.find((c) => c.name === args.command)!;
  try {
    for (const f of args.flags.keys()) {
      if (f !== 'help' && !cmd.flags.includes(f)) throw new UserError(`'rules ${cmd.name}' has no option '--${f}'; see 'rules ${cmd.name} --help'`);
    }
    if ((cmd.name === 'list' || cmd.name === 'config') && args.positionals.length > 0) {
      throw new UserError(`'rules ${cmd.name}' takes no targets (got '${args.positionals[0]}')`);
    }
    if (cmd.name === 'build' || cmd.name === 'watch') {
      const watching = cmd.name === 'watch' || args.flags.has('watch');
      if (!watching && !flag(args, 'force')) {
        const file = value(args, 'file');
        startCheckThreads(stampPath(file === undefined ? process.cwd() : dirname(resolve(file))));
      }
      const [{ buildCommand, watchCommand }, { buildOptions }] = await Promise.all([import('./build.js'), import('./options.js')]);
      const opts = buildOptions(args, watching);
      return await (opts.watch ? watchCommand(args, opts) : buildCommand(args, opts));
    }
    if (cmd.name === 'completion') return await completionCommand(args);
    const { cleanCommand, configCommand, graphCommand, initCommand, listCommand, reportCommand, whyCommand } = await import('./commands.js');
    switch (cmd.name) {
      case 'graph':
        return await graphCommand(args);
      case 'list':
        return listCommand(args);
      case 'clean':
        return await cleanCommand(args);
      case 'config':
        return configCommand(args);
      case 'init':
        return initCommand(args);
      case 'why':
        return await whyCommand(args);
      case 'report':
        return await reportCommand(args);
    }
    return 2;
  } catch (e) {
    return reportError(e);
  }
}

/** `-C DIR`: every path after it, `-f` too, is taken from DIR, as with make. */
function changeDirectory(args: ParsedArgs): void {
  const dir = value(args, 'directory');
  if (dir === undefined) return;
  try {
    process.chdir(dir);
  } catch {
    throw new UserError(`-C ${dir}: no such directory`);
  }
}

/** `rules completion SHELL`: the script on stdout. */
async function completionCommand(args: ParsedArgs): Promise<number> {
  const { completionScript, SHELLS } = await import('./completion.js');
  const shell = args.positionals[0];
  if (args.positionals.length !== 1 || !(SHELLS as readonly string[]).includes(shell!)) {
    throw new UserError(`'rules completion' takes one shell: ${SHELLS.join(', ')}${shell === undefined ? '' : ` (got '${args.positionals.join(' ')}')`}`);
  }
  process.stdout.write(completionScript(shell as (typeof SHELLS)[number]));
  return 0;
}

function reportError(e: unknown): number {
  if (e instanceof UserError) {
    printDiagnostics(e.diagnostics);
    return e.exitCode;
  }
  process.stderr.write(`rules: internal error (a bug; please report it):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 2;
}

guardStdio();
const code = await main(process.argv.slice(2));
process.exitCode = outputClosed.aborted ? EXIT_OUTPUT_CLOSED : code;
