/** A bench command's arguments are wrong: the CLI prints the message and the command's help, and exits 2. */
export class BenchUsageError extends Error {}
