// The Rulefile `rules init` writes: a small working project, commented for
// someone who has not read the documentation yet. It builds in an empty
// directory (test/e2e/init.test.ts holds it to that).

export const STARTER_RULEFILE = `# Rulefile: how this project's files are made, for \`rules\`.
#
# Each rule says how to make its outputs from its inputs. Try:
#   rules build -n     what would run, and why (nothing is run)
#   rules build        run it; a second build says "nothing to do"
#   rules list         the rules, with their inputs and outputs
# The whole language is in docs/rulefile.md of the rulefile package.

# Values that commands use as {config.NAME}. Override one for a build with
# \`rules build --config greeting=Hi\`: only the jobs that use it run again.
config:
  greeting: Hello
  names: [world, rules]

# What \`rules build\` makes when no target is named (else the first rule).
default: all

rules:
  # A rule without a command names a set of files: here one greeting per
  # name in the config, made by the rule below.
  all:
    inputs:
      - expand: "greetings/{name}.txt"
        name: { config: names }

  # A pattern rule: {name} in an output matches any file name, and the
  # command uses its value. Every path and value put into \`run\` is quoted
  # for the shell, so do not quote the placeholders yourself.
  greet:
    description: Write one greeting
    outputs: "greetings/{name}.txt"
    params: { greeting: "{config.greeting}" }
    run: echo {params.greeting}, {name}! > {output}

  # More keys a rule may have: inputs (files it reads, which may be
  # patterns too: "texts/{name}.txt"), log, env, resources, temp, script.
`;
