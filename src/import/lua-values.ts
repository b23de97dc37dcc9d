// The values of an lsyncd config, read from Lua without running it: what is a constant, or a name bound to one
// at the top of the file, is evaluated; everything else (a call, a function, a name set in a loop) is kept as
// "unknown" with the reason, for the importer to comment out.
//
// Why not run the Lua: a config is a program (it may call os.execute); the importer must only read it. lsyncd's
// configs are nearly all constants: tables, strings, `..` concatenation and locals, which is what is evaluated.
import type * as Lua from 'luaparse';
import { createRequire } from 'node:module';
import { InosyncError } from '../errors.js';

export type LuaValue = string | number | boolean | null | LuaTable | LuaLayer | LuaUnknown;

/** A Lua table: its named fields, and its positional ones (`sync{ default.rsync, ... }` puts the layer first). */
export interface LuaTable {
  kind: 'table';
  line: number;
  named: Map<string, LuaValue>;
  positional: LuaValue[];
}

/** One of lsyncd's built-in layers: `default.rsync` is named 'rsync'. */
export interface LuaLayer {
  kind: 'layer';
  name: string;
}

export interface LuaUnknown {
  kind: 'unknown';
  /** Why it cannot be known before lsyncd runs: "a call to os.getenv". */
  why: string;
  line: number;
}

/** A call of one of lsyncd's config functions at the top of the file: `sync{...}`, `settings{...}`. */
export interface LuaCall {
  name: string;
  argument: LuaValue;
  line: number;
}

export interface LuaProgram {
  calls: LuaCall[];
  /** Globals as the file leaves them (`settings = {...}` is the older spelling of `settings{...}`). */
  globals: Map<string, LuaValue>;
  /** Statements that were not evaluated, with their line. */
  skipped: string[];
}

export function isTable(value: LuaValue | undefined): value is LuaTable {
  return typeof value === 'object' && value !== null && value.kind === 'table';
}

export function isUnknown(value: LuaValue | undefined): value is LuaUnknown {
  return typeof value === 'object' && value !== null && value.kind === 'unknown';
}

/** The longest string the reader builds: `a = a .. a` forty times over must not fill the memory. */
const MAX_STRING = 64 * 1024;

/** A value as a user would read it in a comment (a table within tables, or one that holds itself, as {...}). */
export function showLua(value: LuaValue, depth = 0): string {
  if (value === null) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  if (value.kind === 'layer') return `default.${value.name}`;
  if (value.kind === 'unknown') return `(${value.why})`;
  if (depth >= 3) return '{...}';
  const parts = [...value.positional.map((v) => showLua(v, depth + 1)), ...[...value.named].map(([k, v]) => `${k} = ${showLua(v, depth + 1)}`)];
  return `{ ${parts.join(', ')} }`;
}

/** Parses Lua source (read as latin1, so that string values keep their bytes); throws exit 2 with line and column. */
export function readLua(source: string, file: string): LuaProgram {
  // luaparse is loaded here, when `inosync import` runs, not with the rest of the CLI.
  const luaparse = createRequire(import.meta.url)('luaparse') as typeof Lua;
  let chunk: Lua.Chunk;
  try {
    chunk = luaparse.parse(source, { luaVersion: '5.3', locations: true, encodingMode: 'pseudo-latin1', comments: false });
  } catch (error) {
    const e = error as { line?: number; column?: number; message: string };
    const where = e.line === undefined ? file : `${file}:${e.line}:${(e.column ?? 0) + 1}`;
    throw new InosyncError(`${where}: not Lua that lsyncd could read: ${e.message.replace(/^\[\d+:\d+\] /, '')}`,
      'Give an lsyncd config file (Lua with sync{...} blocks), the one lsyncd itself starts with.', { exitCode: 2, cause: error });
  }
  return new Reader().program(chunk);
}

const lineOf = (node: Lua.Node): number => node.loc?.start.line ?? 0;

class Reader {
  private readonly globals = new Map<string, LuaValue>();
  private readonly calls: LuaCall[] = [];
  private readonly skipped: string[] = [];

  program(chunk: Lua.Chunk): LuaProgram {
    for (const statement of chunk.body) this.statement(statement);
    return { calls: this.calls, globals: this.globals, skipped: this.skipped };
  }

  private statement(node: Lua.Statement): void {
    switch (node.type) {
      case 'LocalStatement':
      case 'AssignmentStatement':
        node.variables.forEach((variable, i) => {
          const init = node.init[i];
          const value = init === undefined ? null : this.value(init);
          if (variable.type === 'Identifier') this.globals.set(variable.name, value);
          else if (variable.type === 'MemberExpression' && variable.base.type === 'Identifier') {
            const table = this.globals.get(variable.base.name);
            if (isTable(table)) table.named.set(variable.identifier.name, value);
          } else this.skipped.push(`line ${lineOf(node)}: an assignment to a computed place`);
        });
        return;
      case 'CallStatement': {
        const call = node.expression;
        const name = call.base.type === 'Identifier' ? call.base.name : nameOf(call.base);
        const argument = call.type === 'TableCallExpression' ? this.value(call.arguments)
          : call.type === 'StringCallExpression' ? this.value(call.argument)
            : call.arguments.length === 1 ? this.value(call.arguments[0] as Lua.Expression) : unknown(`${call.arguments.length} arguments`, node);
        this.calls.push({ name, argument, line: lineOf(node) });
        return;
      }
      case 'FunctionDeclaration':
        if (node.identifier?.type === 'Identifier') this.globals.set(node.identifier.name, unknown('a Lua function', node));
        return;
      default:
        this.skipped.push(`line ${lineOf(node)}: a Lua ${node.type.replace(/Statement$/, '').toLowerCase()} statement, which the importer does not run (a sync{} inside it is not imported)`);
    }
  }

  private value(node: Lua.Expression): LuaValue {
    switch (node.type) {
      case 'StringLiteral':
        return Buffer.from(node.value, 'latin1').toString('utf8');
      case 'NumericLiteral':
      case 'BooleanLiteral':
        return node.value;
      case 'NilLiteral':
        return null;
      case 'Identifier':
        return this.globals.has(node.name) ? this.globals.get(node.name) as LuaValue : unknown(`the name ${node.name}, not set before this line`, node);
      case 'MemberExpression':
        if (node.base.type === 'Identifier' && node.base.name === 'default') return { kind: 'layer', name: node.identifier.name };
        return this.member(node);
      case 'TableConstructorExpression':
        return this.table(node);
      case 'BinaryExpression':
        return this.binary(node);
      case 'UnaryExpression': {
        const argument = this.value(node.argument);
        if (node.operator === '-' && typeof argument === 'number') return -argument;
        if (node.operator === 'not' && !isUnknown(argument)) return argument === null || argument === false;
        return unknown(`an expression with ${node.operator}`, node);
      }
      case 'LogicalExpression': {
        const left = this.value(node.left);
        if (isUnknown(left)) return left;
        const truthy = left !== null && left !== false;
        return (node.operator === 'and') === truthy ? this.value(node.right) : left;
      }
      case 'FunctionDeclaration':
        return unknown('a Lua function', node);
      case 'CallExpression':
      case 'StringCallExpression':
      case 'TableCallExpression':
        return unknown(`a call to ${nameOf(node.base)}, known only when lsyncd runs`, node);
      default:
        return unknown(`a Lua ${node.type}`, node);
    }
  }

  private member(node: Lua.MemberExpression): LuaValue {
    const base = this.value(node.base);
    if (isTable(base)) return base.named.get(node.identifier.name) ?? null;
    if (typeof base === 'object' && base !== null && base.kind === 'layer') return unknown(`default.${base.name}.${node.identifier.name}, a part of lsyncd`, node);
    return unknown(`${nameOf(node)}, known only when lsyncd runs`, node);
  }

  private table(node: Lua.TableConstructorExpression): LuaTable {
    const table: LuaTable = { kind: 'table', line: lineOf(node), named: new Map(), positional: [] };
    for (const field of node.fields) {
      if (field.type === 'TableValue') table.positional.push(this.value(field.value));
      else if (field.type === 'TableKeyString') table.named.set(field.key.name, this.value(field.value));
      else {
        const key = this.value(field.key);
        if (typeof key === 'string') table.named.set(key, this.value(field.value));
        else if (typeof key === 'number' && Number.isInteger(key) && key >= 1 && key <= table.positional.length + 1) table.positional[key - 1] = this.value(field.value);
      }
    }
    return table;
  }

  private binary(node: Lua.BinaryExpression): LuaValue {
    const left = this.value(node.left);
    const right = this.value(node.right);
    if (isUnknown(left)) return left;
    if (isUnknown(right)) return right;
    if (node.operator === '..' && (typeof left === 'string' || typeof left === 'number') && (typeof right === 'string' || typeof right === 'number')) {
      const text = `${left}${right}`;
      return text.length <= MAX_STRING ? text : unknown(`a string longer than ${MAX_STRING} characters`, node);
    }
    const result = typeof left === 'number' && typeof right === 'number' ? arithmetic(node.operator, left, right) : undefined;
    if (result !== undefined && Number.isFinite(result)) return result;
    return unknown(result === undefined ? `an expression with ${node.operator}` : 'a number that is not finite', node);
  }
}

function arithmetic(operator: string, left: number, right: number): number | undefined {
  switch (operator) {
    case '+': return left + right;
    case '-': return left - right;
    case '*': return left * right;
    case '/': return left / right;
    default: return undefined;
  }
}

function unknown(why: string, node: Lua.Node): LuaUnknown {
  return { kind: 'unknown', why, line: lineOf(node) };
}

/** `os.getenv`, `a.b.c`: the dotted name of a callee or member, for a comment. */
function nameOf(node: Lua.Expression): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression') return `${nameOf(node.base)}${node.indexer}${node.identifier.name}`;
  return 'an expression';
}
