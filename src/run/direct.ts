// When a command is one simple command, run it without a shell, as GNU Make
// does: the job is the same, and starting it costs one program instead of two.
// Anything the shell would interpret (quotes other than our own single quotes,
// variables, globs, redirections, pipes, builtins, assignments) keeps the shell.

/**
 * Shells whose `-c` runs a simple command exactly as exec'ing it would. Not
 * zsh, which reads ~/.zshenv even for `-c`; bash only while BASH_ENV (a file
 * it would source first) is unset and no function is exported to it
 * (BASH_FUNC_*: e.g. `module` on HPC systems is one).
 */
const POSIX_SHELLS = new Set(['sh', 'bash', 'dash']);

/** Shell builtins and keywords: these must run in a shell (external twins behave differently). */
const BUILTINS = new Set(
  (
    '. : [ [[ alias bg break builtin cd command continue declare echo eval exec exit export false fc fg getopts hash jobs ' +
    'kill let local printf pwd read readonly return set shift source test times trap true type typeset ulimit umask ' +
    'unalias unset wait if then else elif fi case esac for while until do done function select time coproc'
  ).split(' '),
);

/** Whether `shell` (argv, ending in -c) is a POSIX shell with options that do not change a simple command. */
export function isPlainPosixShell(shell: readonly string[], bashExtras: boolean): boolean {
  if (shell.length < 2 || shell[shell.length - 1] !== '-c') return false;
  const name = shell[0]!.slice(shell[0]!.lastIndexOf('/') + 1);
  if (!POSIX_SHELLS.has(name)) return false;
  if (name === 'bash' && bashExtras) return false;
  const opts = shell.slice(1, -1);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    if (/^-[eu]+$/.test(o)) continue;
    if (/^-[eu]*o$/.test(o) && opts[i + 1] === 'pipefail') {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

const PLAIN = /[A-Za-z0-9_\-.,:/@%+=]/;

/** The argv of `command` if it is one simple command of plain and single-quoted words, else undefined. */
export function simpleCommandArgv(command: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = command.length;
  while (i < n) {
    while (i < n && (command[i] === ' ' || command[i] === '\t')) i++;
    if (i >= n) break;
    let word = '';
    let quoted = false;
    while (i < n && command[i] !== ' ' && command[i] !== '\t') {
      const c = command[i]!;
      if (c === "'") {
        const end = command.indexOf("'", i + 1);
        if (end < 0) return undefined;
        word += command.slice(i + 1, end);
        quoted = true;
        i = end + 1;
      } else if (c === '\\' && command[i + 1] === "'" && command[i - 1] === "'" && command[i + 2] === "'") {
        // The `'\''` our quoting writes for a single quote inside a word.
        word += "'";
        i += 2;
      } else if (PLAIN.test(c)) {
        word += c;
        i++;
      } else {
        return undefined;
      }
    }
    if (!quoted && word === '') return undefined;
    words.push(word);
  }
  if (words.length === 0) return undefined;
  const first = words[0]!;
  if (BUILTINS.has(first) || first.includes('=')) return undefined;
  return words;
}

/** Whether an environment gives bash something to do before a `-c` command: BASH_ENV or exported functions. */
export function hasBashExtras(env: Record<string, string | undefined>): boolean {
  for (const key in env) if ((key === 'BASH_ENV' && env[key]) || key.startsWith('BASH_FUNC_')) return true;
  return false;
}
