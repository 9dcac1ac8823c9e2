/** Command output (data) goes to stdout; diagnostics go to stderr through the logger or `printError`. */
import { redactText } from '../observability/redact.js';

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printError(text: string): void {
  process.stderr.write(`${redactText(text)}\n`);
}
