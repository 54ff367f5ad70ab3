import type { Command } from 'commander';
import type { CliOutput } from './output.js';

/**
 * One command of the CLI, in a file of its own under commands/ (listed in commands/index.ts):
 * it adds itself to the program, with its options, help and action.
 */
export interface CliCommand {
  register(program: Command, output: CliOutput): void;
}

/** The program's subcommand `name` (a group such as `sessions`), made on first use. */
export function commandGroup(program: Command, name: string, description: string): Command {
  return (
    program.commands.find((command) => command.name() === name) ??
    program.command(name).description(description)
  );
}
