/**
 * Text for a terminal that may carry values from outside (GitLab's API, the AWS CLI's output, config
 * values in messages): every control character but the newline (C0, DEL, C1: ESC starts the sequences
 * that clear the screen, set the window title or rewrite lines) becomes a visible `\uXXXX`. That form is
 * also a valid JSON escape, so a JSON document stays valid. One function, used by every writer.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it escapes
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A writer that escapes what it prints (terminalSafe). */
export function safeWriter(write: (text: string) => void): (text: string) => void {
  return (text) => write(terminalSafe(text));
}
