// `node --import <this file>`: appends the URL of every module the process loads to the file named by
// LAKEMAP_RECORD_LOADS (one per line), so a test can tell which modules a command needed.
import { register } from 'node:module';

register(new URL('./record-loads-hook.mjs', import.meta.url));
