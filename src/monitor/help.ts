// The --help pages of `inosync watch` (inotifywait) and `inosync watch --stats` (inotifywatch).
import { EVENT_HELP } from './events.js';

const events = EVENT_HELP.map(([name, meaning]) => `  ${name.padEnd(14)}${meaning}`).join('\n');

export function waitHelp(program: string): string {
  return `Usage: ${program} [OPTIONS] PATH... [@EXCLUDED_PATH...]

Wait for changes to files and directories, as inotifywait(1) does, and print one line per event.
A drop-in for inotifywait: same options, output, messages and exit status; installed under the name
\`inotifywait\` (a symlink to inosync), it is one. Diagnostics go to stderr, events to stdout.

Options:
  -m, --monitor         Keep printing events until killed or until --timeout expires. Default: exit
                        after the first event.            e.g. ${program} -m /srv/www
  -r, --recursive       Watch every directory below the PATHs too, and new ones as they appear
                        (symlinks are not followed).     e.g. ${program} -mr /srv/www
  -e, --event LIST      Only these events (comma-separated, repeatable; see Events). Default: all.
                                                          e.g. -e modify,create -e delete
  -q, --quiet           Do not print "Setting up watches." / "Watches established.". Twice (-qq):
                        print no events and no warnings either (the exit status tells).   e.g. -mq
  -t, --timeout SECONDS Exit with status 2 when no event came for SECONDS (with -m: since the last
                        event). 0 (default): wait forever. Negative: an error.   e.g. -t 30
      --format FMT      Print each event with FMT (a newline is added unless --no-newline):
                          %w  the watched path (with a trailing / for a directory)
                          %f  the name inside it (empty for an event on %w itself)
                          %e  event names, comma-separated   %Xe  separated by the character X
                          %T  the time, as --timefmt says    %c   the move cookie (hex)
                          %0  a NUL byte    %n  a newline    %%   a percent sign
                                                          e.g. --format '%w%f %e'
      --no-newline      With --format: add no newline.    e.g. --format '%w%f%0' --no-newline
      --timefmt FMT     strftime(3) format for %T (C locale, TZ time zone; glibc flags - _ 0 ^ #).
                                                          e.g. --timefmt '%F %T' --format '%T %w%f %e'
  -c, --csv             Print CSV: watched,EVENTS,file; a field is quoted ("" for ") when it holds
                        a comma, a quote or a newline, or starts or ends with a space.
                                                          e.g. -mc DIR > events.csv
      --json            Print one JSON object per line (inosync; see JSON below).
                                                          e.g. -mr --json DIR | jq -r .path
      --exclude RE      Leave out events whose path (%w%f) matches the POSIX extended regular
                        expression RE (directories stay watched: use @PATH not to watch them).
                        Only the last --exclude counts.   e.g. --exclude '\\.swp$'
      --excludei RE     The same, ignoring case.          e.g. --excludei '\\.(jpe?g|png)$'
      --include RE      Only events whose path matches RE.   e.g. --include '\\.(html|css)$'
      --includei RE     The same, ignoring case. (One of the four at most.)   e.g. --includei '\\.txt$'
  @PATH                 With -r: do not watch the directory PATH (spelled as the PATHs are: relative
                        or absolute).                     e.g. ${program} -mr src @src/.git
      --fromfile FILE   Read PATHs (and @PATHs) from FILE, one per line, bytes as they are; - reads
                        stdin. For many paths, or names that are not UTF-8.   e.g. --fromfile list.txt
  -o, --outfile FILE    Append events to FILE (created with mode 0600) instead of stdout.
                                                          e.g. -m -o /var/log/changes.log DIR
  -d, --daemon          Like -m, in the background: returns once the watches are set; needs -o FILE
                        (or -s: events to syslog, exit 1 if its socket is not there). Implies -s.
                        Relative paths mean what they mean
                        here (the daemon keeps this working directory).   e.g. -d -o /var/log/w.log DIR
  -s, --syslog          Send messages (errors, warnings) to syslog, facility daemon, via logger(1).
                                                          e.g. -m -s DIR
      --syslog-socket PATH  Log to this socket instead of /dev/log (inosync).
                                                          e.g. --syslog-socket /run/systemd/journal/dev-log
  -P, --no-dereference  A PATH that is a symlink is watched itself, not what it leads to (with -r, one
                        leading to a directory is walked, as inotifywait does). Symlinks below a PATH
                        are never followed, with or without -P.   e.g. -P LINK
      --stats           Count events per watched directory instead: inotifywatch (${program} --stats -h).
                                                          e.g. ${program} --stats -r -t 60 DIR
  -h, --help            This help.                        e.g. ${program} -h

Events (-e, and in the output in upper case, e.g. CREATE,ISDIR  CLOSE_WRITE,CLOSE):
${events}
  ISDIR is added when the subject is a directory. delete_self and unmount end a watch and arrive even
  when not asked for: without -m, such an event ends the wait with status 1.

Output:
  Default line: "%w %e %f" (the watched path, events, the name). Names are printed as the bytes they
  are: a name may hold a newline, so scripts that must be exact use --format '%w%f%0' --no-newline
  and read with \`while IFS= read -r -d '' f\`, or --json.

JSON (--json), one object per event:
  {"time":"2026-01-02T03:04:05.678Z","watch":"src/","file":"a.txt","path":"src/a.txt",
   "events":["CLOSE_WRITE","CLOSE"],"cookie":0}
  watch, file and path are strings when their bytes are valid UTF-8; otherwise the key gets a _b64
  suffix and the value is base64 of the exact bytes (e.g. "path_b64":"c3JjL2b/bw=="). "synthetic":true
  marks an entry found by listing a new directory (it was there before its watch was set).

Exit status:
  0  an event asked for was received (without -m)
  1  an error; an event not asked for ended the wait (delete_self, unmount); every PATH is gone (-m);
     the reader of stdout went away (inotifywait dies of SIGPIPE there)
  2  --timeout expired

Examples:
  ${program} -e close_write notes.txt && make                  # wait for one save
  ${program} -mrq --format '%w%f' -e modify,delete,create,attrib SRC | while read f; do ...; done
  ${program} -mrq -e moved_to,create --format '%w%f%0' --no-newline DIR |
      while IFS= read -r -d '' f; do chmod a+rX "$f"; done   # exact names, even with newlines
  ${program} -mr --timefmt '%F %T' --format '%T %e %w%f' -o /tmp/changes.log -d ~/project
  ${program} -mr --json DIR | jq -r .path

Better than inotifywait: files written right after \`mkdir -p a/b/c\` are reported (a new directory is
watched first, then listed: what it holds is reported as CREATE, and each file also as CLOSE_WRITE,CLOSE
since it may have been written before the watch existed); a renamed directory's events carry
its new path; MOVED_FROM/MOVED_TO are paired across reads; the event queue overflowing is reported and
the tree rewalked; a watched root that is deleted or moved away is reported, and -m ends (status 1)
when nothing is left to watch; @PATH also keeps new directories of that name unwatched; the
event queue is drained fast enough not to overflow on bursts where inotifywait loses events.
Differences: --exclude/--include use JavaScript's regex engine on a POSIX ERE translated to it (same
matches for ordinary patterns); an entry may be
reported twice around a new directory's listing (never zero times); reads of a new directory before it
is listed are not reported; fanotify (-I -F -S) is not offered; -h exits 0.`;
}

/** `program`: how the statistics mode is invoked (`inotifywatch`, `inosync watch --stats`); `waitProgram`: the monitor. */
export function statsHelp(program: string, waitProgram: string): string {
  return `Usage: ${program} [OPTIONS] PATH... [@EXCLUDED_PATH...]

Count filesystem events per watched directory (or file) for a while, then print a table, as
inotifywatch(1) does. Counting ends at --timeout or on SIGINT (Ctrl-C), SIGTERM or SIGHUP.

Options:
  -t, --timeout SECONDS  Count for SECONDS, then print. 0 (default): until a signal.   e.g. -t 60
  -r, --recursive        Watch every directory below the PATHs too (and new ones).
  -e, --event LIST       Count only these events (see \`${waitProgram} --help\`).   e.g. -e modify,create
  -a, --ascending EVENT  Sort rows by EVENT's count, ascending (EVENT: total or an event name other
                         than move and close).
  -d, --descending EVENT Sort descending (default: -d total).   e.g. -d modify
  -z, --zero             Also print rows and columns that are all zeros.
  -v, --verbose          Say more on stderr.
      --exclude RE, --excludei RE, --include RE, --includei RE, @PATH, --fromfile FILE, -P
                         As in \`${waitProgram} --help\`.
  -h, --help             This help.

Output: "total  access  modify ...  filename" then one row per watch, its path last. Messages
("Establishing watches...", "Finished establishing watches, now collecting statistics.", "No events
occurred.") go to stderr. Rows with equal counts are ordered by path (inotifywatch: by watch number).

Example:
  ${program} -r -t 60 -e modify,create -d modify /srv/www`;
}
