// The `postlane` command (bin/postlane.js): runs the command tree of program.ts and ends every
// failure the same way (failure.ts): one line on stderr, an exit code, a trace only with --debug.
import { buildProgram } from './program.js';
import { exitQuietlyOnClosedStdout, exitWithFailure, isDebug } from './failure.js';

exitQuietlyOnClosedStdout();
buildProgram().parseAsync(process.argv).catch((err: unknown) => exitWithFailure(err, isDebug(process.argv, process.env)));
