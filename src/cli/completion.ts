// `rules completion bash|zsh|fish`: a shell completion script, made from the
// table of commands and flags (cli/args.ts), so a flag added there completes
// too. Targets complete as the Rulefile's rule names (from `rules list`) and
// as files.

import { COMMANDS, FLAGS, type CommandSpec, type FlagSpec } from './args.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The program names the scripts complete: the bin and its alias. */
const PROGRAMS = ['rules', 'rulefile'];

/** Options of a bare `rules` (which builds), as `rules --help` lists them. */
function defaultFlags(): string[] {
  return [...(COMMANDS.find((c) => c.name === 'build')?.flags ?? []), 'help', 'version'];
}

function flagsOf(cmd: CommandSpec): FlagSpec[] {
  return [...cmd.flags, 'help'].flatMap((n) => (FLAGS[n] ? [FLAGS[n]!] : []));
}

/** The spellings of a flag: `-j`, `--jobs`. */
function spellings(f: FlagSpec): string[] {
  return f.short ? [`-${f.short}`, `--${f.long}`] : [`--${f.long}`];
}

/** A flag's value as completion sees it: a choice of words, a file, or free text. */
function valueKind(f: FlagSpec): { choices: string[] } | 'file' | 'text' | undefined {
  if (f.value === undefined) return undefined;
  if (/^[a-z]+(\|[a-z]+)+$/.test(f.value)) return { choices: f.value.split('|') };
  return f.value === 'FILE' ? 'file' : 'text';
}

/** The words a command's positional argument is one of (`bash|zsh|fish`), if it is a choice. */
function argChoices(cmd: CommandSpec): string[] | undefined {
  return /^[a-z]+(\|[a-z]+)+$/.test(cmd.args) ? cmd.args.split('|') : undefined;
}

function takesTargets(cmd: CommandSpec): boolean {
  return /TARGET/.test(cmd.args);
}

const RULE_NAMES_SED = `sed -n 's/^\\([A-Za-z_][A-Za-z0-9_-]*\\).*/\\1/p'`;

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? bashScript() : shell === 'zsh' ? zshScript() : fishScript();
}

function allFlags(): FlagSpec[] {
  return Object.values(FLAGS);
}

function bashScript(): string {
  const withValue = allFlags().filter((f) => f.value !== undefined);
  const valueCases = withValue.map((f) => {
    const kind = valueKind(f);
    const reply = typeof kind === 'object' ? `COMPREPLY=($(compgen -W "${kind.choices.join(' ')}" -- "$cur"))` : kind === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
    return `    ${spellings(f).join('|')}) ${reply}; return ;;`;
  });
  const commandCases = COMMANDS.map((c) => {
    const flags = flagsOf(c).flatMap(spellings).join(' ');
    const choices = argChoices(c);
    const words = choices ? `words="${choices.join(' ')}"` : takesTargets(c) ? 'words="$(_rules_targets)"; files=1' : 'words=""';
    return `    ${c.name}) flags="${flags}"; ${words} ;;`;
  });
  return `# bash completion for rules. Load it in ~/.bashrc:
#   source <(rules completion bash)
_rules_targets() {
  "\${COMP_WORDS[0]}" list 2>/dev/null | ${RULE_NAMES_SED}
}
_rules() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="" i flags words files=0
  # The command is the first word that is no option and no option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${withValue.flatMap(spellings).join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
    "") flags="${defaultFlags().flatMap((n) => spellings(FLAGS[n]!)).join(' ')}"; words="${COMMANDS.map((c) => c.name).join(' ')} $(_rules_targets)"; files=1 ;;
${commandCases.join('\n')}
    *) flags="${defaultFlags().flatMap((n) => spellings(FLAGS[n]!)).join(' ')}"; words="$(_rules_targets)"; files=1 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    if ((files)); then COMPREPLY+=($(compgen -f -- "$cur")); fi
  fi
}
complete -F _rules ${PROGRAMS.join(' ')}
`;
}

/** A zsh word list element: single-quoted. */
function zq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function zshScript(): string {
  const withValue = allFlags().filter((f) => f.value !== undefined);
  const valueCases = withValue.map((f) => {
    const kind = valueKind(f);
    const action = typeof kind === 'object' ? `compadd -- ${kind.choices.join(' ')}` : kind === 'file' ? '_files' : ':';
    return `    (${spellings(f).join('|')}) ${action}; return ;;`;
  });
  const flagList = (names: FlagSpec[]) => names.flatMap(spellings).join(' ');
  const commandCases = COMMANDS.map((c) => {
    const choices = argChoices(c);
    const words = choices ? `items=(${choices.join(' ')})` : takesTargets(c) ? 'items=(${(f)"$(_rules_targets)"}); files=1' : 'items=()';
    return `    (${c.name}) flags=(${flagList(flagsOf(c))}); ${words} ;;`;
  });
  const described = COMMANDS.map((c) => zq(`${c.name}:${c.summary.replace(/:/g, '\\:')}`)).join(' ');
  return `#compdef ${PROGRAMS.join(' ')}
# zsh completion for rules. Load it in ~/.zshrc, after compinit:
#   source <(rules completion zsh)
_rules_targets() {
  \${words[1]} list 2>/dev/null | ${RULE_NAMES_SED}
}
_rules() {
  local cmd="" i files=0
  local -a flags items commands
  commands=(${described})
  # The command is the first word that is no option and no option's value.
  for (( i = 2; i < CURRENT; i++ )); do
    case \${words[i]} in
      (${withValue.flatMap(spellings).join('|')}) (( i++ )) ;;
      (-*) ;;
      (*) cmd=\${words[i]}; break ;;
    esac
  done
  case \${words[CURRENT-1]} in
${valueCases.join('\n')}
  esac
  case $cmd in
    ('') flags=(${flagList(defaultFlags().map((n) => FLAGS[n]!))}); files=1
      if [[ \${words[CURRENT]} != -* ]]; then _describe command commands; fi
      items=(\${(f)"$(_rules_targets)"}) ;;
${commandCases.join('\n')}
    (*) flags=(${flagList(defaultFlags().map((n) => FLAGS[n]!))}); items=(\${(f)"$(_rules_targets)"}); files=1 ;;
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    compadd -- $flags
  else
    (( \${#items} )) && compadd -- $items
    (( files )) && _files
  fi
}
compdef _rules ${PROGRAMS.join(' ')}
`;
}

/** A fish string: single-quoted. */
function fq(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishScript(): string {
  const lines: string[] = [
    '# fish completion for rules. Load it in ~/.config/fish/config.fish:',
    '#   rules completion fish | source',
    'function __rules_targets',
    // The command typed (rules or rulefile) lists the rules; fish takes a variable as a command, not a substitution.
    '    set -l program (commandline -opc)[1]',
    `    $program list 2>/dev/null | string match -r '^[A-Za-z_][A-Za-z0-9_-]*'`,
    'end',
  ];
  const names = COMMANDS.map((c) => c.name).join(' ');
  const flagLine = (program: string, cond: string, f: FlagSpec, help = f.help) => {
    const kind = valueKind(f);
    const value = typeof kind === 'object' ? ` -x -a ${fq(kind.choices.join(' '))}` : kind === 'file' ? ' -r -F' : kind === 'text' ? ' -x' : '';
    return `complete -c ${program} -n ${fq(cond)}${f.short ? ` -s ${f.short}` : ''} -l ${f.long}${value} -d ${fq(help)}`;
  };
  for (const program of PROGRAMS) {
    lines.push(`complete -c ${program} -f`);
    for (const c of COMMANDS) lines.push(`complete -c ${program} -n __fish_use_subcommand -a ${c.name} -d ${fq(c.summary)}`);
    for (const n of defaultFlags()) lines.push(flagLine(program, '__fish_use_subcommand', FLAGS[n]!));
    lines.push(`complete -c ${program} -n __fish_use_subcommand -a '(__rules_targets)' -F`);
    for (const c of COMMANDS) {
      const cond = `__fish_seen_subcommand_from ${c.name}`;
      for (const n of [...c.flags, 'help']) if (FLAGS[n]) lines.push(flagLine(program, cond, FLAGS[n]!, c.flagHelp?.[n]));
      const choices = argChoices(c);
      if (choices) lines.push(`complete -c ${program} -n ${fq(cond)} -a ${fq(choices.join(' '))}`);
      else if (takesTargets(c)) lines.push(`complete -c ${program} -n ${fq(cond)} -a '(__rules_targets)' -F`);
    }
    // Past a word that is no command, `rules TARGET...` builds: the build's flags and targets.
    const bare = `not __fish_seen_subcommand_from ${names}; and not __fish_use_subcommand`;
    for (const n of defaultFlags()) lines.push(flagLine(program, bare, FLAGS[n]!));
    lines.push(`complete -c ${program} -n ${fq(bare)} -a '(__rules_targets)' -F`);
  }
  return lines.join('\n') + '\n';
}
