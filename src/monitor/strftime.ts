// strftime(3) for --timefmt, in the C/POSIX locale and the process's local time zone (TZ), with glibc's
// flags (`-` no padding, `_` space padding, `0` zero padding, `^` upper case, `#` swap case) and field widths.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

type Pad = '0' | ' ' | '';

interface Field {
  text: string;
  /** Numeric fields are padded; text fields are not unless a width is given. */
  numeric: boolean;
  pad: Pad;
  width: number;
}

const num = (value: number, width: number, pad: Pad = '0'): Field => ({ text: String(value), numeric: true, pad, width });
const txt = (text: string): Field => ({ text, numeric: false, pad: ' ', width: 0 });

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  const today = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  return Math.round((today.getTime() - start.getTime()) / 86_400_000);
}

/** ISO 8601 week-based year and week number. */
function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const weekday = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return { year: t.getUTCFullYear(), week: Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

function offset(d: Date, colon: boolean): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${sign}${hh}${colon ? ':' : ''}${mm}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? offset(d, false);
}

function field(conv: string, d: Date): Field | string | undefined {
  const hour12 = d.getHours() % 12 || 12;
  switch (conv) {
    case 'a': return txt(DAYS[d.getDay()]!.slice(0, 3));
    case 'A': return txt(DAYS[d.getDay()]!);
    case 'b': case 'h': return txt(MONTHS[d.getMonth()]!.slice(0, 3));
    case 'B': return txt(MONTHS[d.getMonth()]!);
    case 'c': return `%a %b %e %H:%M:%S %Y`;
    case 'C': return num(Math.floor(d.getFullYear() / 100), 2);
    case 'd': return num(d.getDate(), 2);
    case 'D': return '%m/%d/%y';
    case 'e': return num(d.getDate(), 2, ' ');
    case 'F': return '%Y-%m-%d';
    case 'g': return num(isoWeek(d).year % 100, 2);
    case 'G': return num(isoWeek(d).year, 1);
    case 'H': return num(d.getHours(), 2);
    case 'I': return num(hour12, 2);
    case 'j': return num(dayOfYear(d) + 1, 3);
    case 'k': return num(d.getHours(), 2, ' ');
    case 'l': return num(hour12, 2, ' ');
    case 'm': return num(d.getMonth() + 1, 2);
    case 'M': return num(d.getMinutes(), 2);
    case 'n': return txt('\n');
    case 'p': return txt(d.getHours() < 12 ? 'AM' : 'PM');
    case 'P': return txt(d.getHours() < 12 ? 'am' : 'pm');
    case 'r': return '%I:%M:%S %p';
    case 'R': return '%H:%M';
    case 's': return num(Math.floor(d.getTime() / 1000), 1);
    case 'S': return num(d.getSeconds(), 2);
    case 't': return txt('\t');
    case 'T': return '%H:%M:%S';
    case 'u': return num(d.getDay() || 7, 1);
    case 'U': return num(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7), 2);
    case 'V': return num(isoWeek(d).week, 2);
    case 'w': return num(d.getDay(), 1);
    case 'W': return num(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7), 2);
    case 'x': return '%m/%d/%y';
    case 'X': return '%H:%M:%S';
    case 'y': return num(d.getFullYear() % 100, 2);
    case 'Y': return num(d.getFullYear(), 1);
    case 'z': return txt(offset(d, false));
    case 'Z': return txt(zoneName(d));
    case '%': return txt('%');
    default: return undefined;
  }
}

function render(f: Field, flag: string, width: number): string {
  let text = f.text;
  if (flag === '^') text = text.toUpperCase();
  else if (flag === '#') text = text === text.toUpperCase() ? text.toLowerCase() : text.toUpperCase();
  let pad: Pad = f.pad;
  if (flag === '-') pad = '';
  else if (flag === '_') pad = ' ';
  else if (flag === '0') pad = '0';
  const w = width > 0 ? width : f.width;
  if (pad === '' || text.length >= w) return text;
  const negative = f.numeric && text.startsWith('-');
  if (pad === '0' && negative) return `-${text.slice(1).padStart(w - 1, '0')}`;
  return text.padStart(w, pad);
}

/** Formats `date` as strftime(3) would with `format` (unknown conversions are copied as they are, like glibc). */
export function strftime(format: string, date: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const match = /^([-_0^#]?)(\d*)([EO]?)(.)/s.exec(format.slice(i + 1));
    if (!match) {
      out += format.slice(i);
      break;
    }
    const [whole, flag = '', width = '', , conv = ''] = match;
    const value = field(conv, date);
    if (value === undefined) out += `%${whole}`;
    else if (typeof value === 'string') out += render(txt(strftime(value, date)), flag, Number(width || 0));
    else out += render(value, flag, Number(width || 0));
    i += whole.length;
  }
  return out;
}
