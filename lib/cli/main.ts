#!/usr/bin/env node
// The `nestjs-tenant-session` executable (package.json `bin`): see cli.ts and docs/cli.md.
import 'reflect-metadata';
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv);
