#!/usr/bin/env node
// Entry point of the `lakemap` executable (package.json `bin`).
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
