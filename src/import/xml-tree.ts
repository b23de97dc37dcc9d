// An XML file as a small tree of elements and their attributes, read with sax in strict mode: all a config
// such as sersync's needs (no text, no namespaces). sax never fetches anything and expands no entity of the
// document's own DTD, so a hostile file can neither read another file nor blow up in memory; an entity it
// does not know is an error.
import type * as Sax from 'sax';
import { createRequire } from 'node:module';
import { InosyncError } from '../errors.js';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  line: number;
}

/** The root element; throws exit 2 with the line and column of the first mistake. */
export function readXml(text: string, file: string, what: string): XmlElement {
  // sax is loaded here, when `inosync import` runs, not with the rest of the CLI.
  const sax = createRequire(import.meta.url)('sax') as typeof Sax;
  const parser = sax.parser(true, { trim: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.onopentag = (tag) => {
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(tag.attributes)) attributes[name] = typeof value === 'string' ? value : value.value;
    const element: XmlElement = { name: tag.name, attributes, children: [], line: parser.line + 1 };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root ??= element;
    stack.push(element);
  };
  parser.onclosetag = () => { stack.pop(); };
  try {
    parser.write(text).close();
  } catch (error) {
    // sax names the place in its message (line from 0) as it found the mistake; it may have read on since.
    const [message, ...place] = (error as Error).message.split('\n');
    const at = (name: string): number | undefined => {
      const found = place.find((p) => p.startsWith(`${name}: `));
      return found === undefined ? undefined : Number(found.slice(name.length + 2));
    };
    throw new InosyncError(`${file}:${(at('Line') ?? parser.line) + 1}:${at('Column') ?? parser.column}: not valid XML: ${message}`, `Give ${what}.`, { exitCode: 2, cause: error });
  }
  if (root === undefined) throw new InosyncError(`${file} holds no XML element`, `Give ${what}.`, { exitCode: 2 });
  return root;
}

/** The children of `element` named `name`. */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((c) => c.name === name) ?? [];
}

export function childNamed(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return childrenNamed(element, name)[0];
}
