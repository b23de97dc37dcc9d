#!/usr/bin/env node
// The native addon of the npm package: prebuilt for linux-x64 (glibc), built from source everywhere else.
//   node scripts/addon.cjs pack      (prepack) copy build/Release/inotify.node into prebuilds/linux-x64/
//   node scripts/addon.cjs unpack    (postpack) remove prebuilds/ again: a clone never holds one
//   node scripts/addon.cjs install   (install) exit 0 if the prebuilt loads here; otherwise say why, exit 1,
//                                    and package.json's install script builds from source (node-gyp rebuild)
// Why: the hosts this agent runs on usually have no compiler. Node-API keeps one binary good for every
// Node >= 20, so one prebuilt per platform is enough; loading it is the test of whether it fits (a musl or
// too old glibc fails to load it, and the build from source follows). A clone has no prebuilds/, so
// `npm ci` there builds from source as before. src/inotify/binding.ts loads build/Release first, then this.
'use strict';
const { copyFileSync, existsSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const platform = `${process.platform}-${process.arch}`;
const prebuilt = join(root, 'prebuilds', platform, 'inotify.node');
const say = (line) => process.stderr.write(`inosync: ${line}\n`);

function pack() {
  if (platform !== 'linux-x64') throw new Error(`the package's prebuilt addon is made on linux-x64, not ${platform}`);
  mkdirSync(join(root, 'prebuilds', platform), { recursive: true });
  copyFileSync(join(root, 'build', 'Release', 'inotify.node'), prebuilt);
}

/** True when the prebuilt addon fits this machine; says which way the install goes. */
function install() {
  const fromSource = 'building the addon from source with node-gyp (needs g++, make and python3)';
  if (process.env.npm_config_build_from_source === 'true') {
    say(`--build-from-source: ${fromSource}`);
    return false;
  }
  if (!existsSync(prebuilt)) {
    say(`no prebuilt addon for ${platform} in this package (one ships for linux-x64, glibc): ${fromSource}`);
    return false;
  }
  try {
    require(prebuilt);
  } catch (error) {
    say(`the prebuilt addon for ${platform} does not load here (${error.message.split('\n')[0]}): ${fromSource}`);
    return false;
  }
  say(`using the prebuilt addon prebuilds/${platform}/inotify.node: no compiler needed`);
  return true;
}

const command = process.argv[2];
if (command === 'pack') pack();
else if (command === 'unpack') rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
else if (command === 'install') process.exitCode = install() ? 0 : 1;
else {
  say('usage: node scripts/addon.cjs pack|unpack|install');
  process.exitCode = 2;
}
