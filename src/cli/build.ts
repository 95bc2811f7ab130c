// `rules build` and `rules watch`: the command line made into a build
// request for the builder, and its outcome rendered. Loaded before anything
// heavy: an up-to-date tree is answered by the builder's first step.

import { build, watch, type BuildOutcome } from '../build/builder.js';
import type { BuildRequest, ReportRequest } from '../build/request.js';
import { flag, type ParsedArgs } from './args.js';
import { buildRequest, type BuildOptions } from './options.js';
import { commandLineReport, consoleReporter } from './reporters.js';
import { MultiReporter, type Reporter } from '../run/events.js';
import { EXIT_OUTPUT_CLOSED, outputClosed, printDiagnostics, stderr, stdout, writeFailed } from './stdio.js';

/** Ctrl-C, SIGTERM, or a reader closing our output (cli/stdio.ts): all stop a build the same way. */
function interrupts(): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  outputClosed.addEventListener('abort', stop);
  if (outputClosed.aborted) stop();
  return {
    signal: abort.signal,
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      outputClosed.removeEventListener('abort', stop);
    },
  };
}

export async function buildCommand(args: ParsedArgs, opts: BuildOptions): Promise<number> {
  if (opts.question) return question(args, opts);
  const report = opts.touch ? touchReport(args, opts) : commandLineReport(args, opts.json);
  if (opts.dryRun) {
    // A dry run stops nothing when interrupted: Ctrl-C simply ends it.
    const outcome = await build(buildRequest(args, opts, report, new AbortController().signal));
    if (outcome.exitCode === 0) await printPlan(outcome, args, opts);
    printDiagnostics(outcome.diagnostics);
    return outcome.exitCode;
  }
  const stop = interrupts();
  try {
    const outcome = await build(buildRequest(args, opts, report, stop.signal));
    printDiagnostics(outcome.diagnostics);
    return outcome.exitCode;
  } finally {
    stop.dispose();
  }
}

export async function watchCommand(args: ParsedArgs, opts: BuildOptions): Promise<number> {
  const stop = interrupts();
  try {
    const request: BuildRequest = buildRequest(args, opts, commandLineReport(args, opts.json), stop.signal);
    await watch({ build: request, reporter: await consoleReporter(args, opts.json), failed: printDiagnostics });
  } finally {
    stop.dispose();
  }
  // Stopped: leave now, whatever timers the watcher left behind (output is written synchronously).
  const code = outputClosed.aborted ? EXIT_OUTPUT_CLOSED : 130;
  setTimeout(() => process.exit(code), 0).unref();
  return code;
}

/** What a dry run prints: the plan (decided, or as the up-to-date stamp keeps it), and "nothing to do". */
async function printPlan(outcome: BuildOutcome, args: ParsedArgs, opts: BuildOptions): Promise<void> {
  const [{ writePlanJson, writePlanText }, { stampHoldsText, shortcutText }] = await Promise.all([import('../report/plan.js'), import('../report/console.js')]);
  let empty: boolean;
  if (outcome.stamp) {
    if (flag(args, 'verbose') && !opts.json) stderr.write(stampHoldsText(outcome.stamp.files));
    stdout.write(opts.planJson ? outcome.stamp.dryJson : outcome.stamp.dryText);
    empty = outcome.stamp.dryText === '';
  } else {
    const s = outcome.shortcut;
    if (s && flag(args, 'verbose') && !opts.json) stderr.write(shortcutText(s.changed, s.deciding, s.jobs));
    // A chunk at a time: the plan of a large graph is never one string.
    const write = (text: string) => stdout.write(text);
    if (opts.planJson) writePlanJson(outcome.plan!, write);
    else writePlanText(outcome.plan!, write, opts.printCommands);
    empty = outcome.plan!.order.length === 0;
  }
  if (!opts.planJson && empty) stderr.write('rules: nothing to do\n');
}

/**
 * `rules build --question` (SPEC §8): a dry run that prints nothing, not even
 * warnings; exit 0 when nothing would run, 1 when something would. The
 * stamp's answer is the same as the plan's: its dry-run text is the plan's.
 */
async function question(args: ParsedArgs, opts: BuildOptions): Promise<number> {
  const silent: ReportRequest = { open: async () => ({ emit() {} }), warn() {} };
  const outcome = await build(buildRequest(args, opts, silent, new AbortController().signal));
  if (outcome.exitCode !== 0) {
    printDiagnostics(outcome.diagnostics);
    return outcome.exitCode;
  }
  const wouldRun = outcome.stamp ? outcome.stamp.dryText !== '' : outcome.plan!.order.length > 0;
  return wouldRun ? 1 : 0;
}

/**
 * `--touch`: one `touched LABEL` line per job recorded (phony jobs have no
 * record) instead of progress; warnings, and the events of `--log-format json`, as usual.
 */
function touchReport(args: ParsedArgs, opts: BuildOptions): ReportRequest {
  const usual = commandLineReport(args, opts.json);
  const touched: Reporter = {
    emit(e) {
      if (e.type === 'job-finish' && !e.job.rule.phony) stdout.write(`touched ${e.job.label}\n`);
    },
  };
  return {
    open: async () => {
      if (!opts.json) return touched;
      const { JsonReporter } = await import('../report/json.js');
      return new MultiReporter([touched, JsonReporter.toDescriptor(2, {}, writeFailed)]);
    },
    warn: usual.warn,
  };
}
