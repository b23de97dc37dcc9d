// The package's public entry point (`import … from 'inosync'`, and `require('inosync')` on Node >= 20.19).
export { Inotify, type InotifyCallback, type InotifyEvent, type InotifyWatchOptions } from './inotify/compat.js';
export {
  constants,
  decodeRecords,
  openInotify,
  type InotifyConstantName,
  type InotifyConstants,
  type InotifySyscallError,
  type NativeInotify,
  type RawEvent,
} from './inotify/binding.js';
