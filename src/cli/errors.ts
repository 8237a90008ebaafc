/** An error meant for the command-line user: printed as is, without a stack trace. */
export class CliError extends Error {}
