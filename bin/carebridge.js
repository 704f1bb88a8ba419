#!/usr/bin/env node
// The `carebridge` command line; the compiled code is built by `npm install` / `npm run build`.
require('../dist/gateway/cli.js').runCli();
