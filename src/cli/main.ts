import { anteroomCommand } from './anteroom-command.js';
import { failureReport } from './failure-report.js';

// The process entry of `anteroom` (bin/anteroom.js and `npm start`): run the command, print a failure as
// failureReport words it, and leave the exit code.
anteroomCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const report = failureReport(error);
    process.stderr.write(report.text);
    process.exitCode = report.exitCode;
  },
);
