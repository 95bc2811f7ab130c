// A job's `description:` as shown: its wildcards filled in (`Calibrate
// {frame}` → `Calibrate f2`). `{NAME}` and `{wildcards.NAME}` take the job's
// values; `{{` and `}}` are braces; any other placeholder is shown as written.

export function describeJob(job: { rule: { description?: string }; wildcards: Record<string, string> }): string | undefined {
  const text = job.rule.description;
  if (text === undefined || !text.includes('{')) return text;
  return text.replace(/\{\{|\}\}|\{(?:wildcards\.)?([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    return name !== undefined && Object.hasOwn(job.wildcards, name) ? job.wildcards[name]! : whole;
  });
}
