// The Dockerfile as the Dockerfile language server reads it (npm dockerfile-ast, dockerfile-utils;
// .ci/test-tools installs them), printed as JSON for DockerfileModel: build stages with their
// instructions, and the linter's problems. Usage: node dockerfile-ast.cjs Dockerfile
'use strict';
const fs = require('fs');
const { DockerfileParser } = require('dockerfile-ast');
const { validate } = require('dockerfile-utils');

const text = fs.readFileSync(process.argv[2], 'utf8');
const severities = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

// Docker's rule: arguments that parse as a JSON array of strings are the exec form, anything else
// is a shell command. (dockerfile-ast's own JSON string values drop the blanks inside strings.)
function command(content) {
  const trimmed = (content || '').trim();
  if (trimmed.startsWith('[')) {
    try {
      const exec = JSON.parse(trimmed);
      if (Array.isArray(exec) && exec.every(s => typeof s === 'string')) {
        return { exec };
      }
    } catch (e) {
      // not JSON: shell form
    }
  }
  return { shell: trimmed };
}

function instruction(i) {
  const out = {
    line: i.getRange().start.line + 1,
    keyword: i.getKeyword(),
    arguments: i.getArguments().map(a => a.getValue()),
    flags: Object.fromEntries((i.getFlags ? i.getFlags() : []).map(f => [f.getName(), f.getValue()])),
  };
  if (i.getProperties) { // ENV, ARG, LABEL: quotes removed, as Docker does
    out.properties = Object.fromEntries(i.getProperties().map(p => [p.getName(), p.getValue()]));
  }
  if (i.getSubcommand) { // HEALTHCHECK CMD ... | NONE
    const sub = i.getSubcommand();
    out.subcommand = sub ? sub.getValue().toUpperCase() : null;
    if (out.subcommand === 'CMD') {
      const content = i.getArgumentsContent();
      Object.assign(out, command(content.slice(content.search(/CMD/i) + 3)));
    }
  } else if (i.getOpeningBracket) { // RUN, CMD, ENTRYPOINT, COPY, ADD, SHELL, VOLUME
    Object.assign(out, command(i.getArgumentsContent()));
  }
  return out;
}

const dockerfile = DockerfileParser.parse(text);
const stages = [];
for (const i of dockerfile.getInstructions()) {
  if (i.getKeyword() === 'FROM') {
    stages.push({ line: i.getRange().start.line + 1, image: i.getImage(), name: i.getBuildStage(), instructions: [] });
  } else if (stages.length > 0) { // before the first FROM: ARGs for FROM lines; the linter reports anything else
    stages[stages.length - 1].instructions.push(instruction(i));
  }
}
const problems = validate(text).map(d => ({
  line: d.range.start.line + 1,
  severity: severities[d.severity] || String(d.severity),
  message: d.message,
}));
process.stdout.write(JSON.stringify({ stages, problems }) + '\n');
