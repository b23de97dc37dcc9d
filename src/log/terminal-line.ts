// One status line kept at the bottom of a terminal (a progress display): log lines written through it
// appear above the status line instead of mixing with it.
import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';

const CLEAR = '\r\x1b[K';

export class TerminalLine extends Writable {
  private text = '';

  constructor(private readonly fd: number) {
    super({ decodeStrings: false });
  }

  /** Shows `text` as the status line (one line, cut to the terminal's width by the caller). */
  set(text: string): void {
    this.text = text;
    this.put(`${CLEAR}${text}`);
  }

  clear(): void {
    if (this.text === '') return;
    this.text = '';
    this.put(CLEAR);
  }

  /** A log line: written above the status line, which is drawn again below it. */
  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const line = chunk.toString();
    this.put(this.text === '' ? line : `${CLEAR}${line}${this.text}`);
    done();
  }

  private put(text: string): void {
    try {
      writeSync(this.fd, text);
    } catch {
      // a closed terminal must not take the agent down
    }
  }
}

/** The status line of stderr, shared by the readable logger and the agent's progress display. */
export const stderrLine = new TerminalLine(2);
