// `--name VALUE` options of the benchmark scripts.

export function flagValue(flag: string, def: string, argv = process.argv.slice(2)): string {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1]! : def;
}
