#!/usr/bin/env node
// Entry point of the `postlane` CLI: runs the compiled TypeScript in dist/.
import '../dist/src/cli/index.js';
