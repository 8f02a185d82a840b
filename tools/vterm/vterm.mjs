// The virtual terminal's device side: the official WebAssembly MicroPython running its REPL, with a
// filesystem that lives in a host folder and survives soft resets and power cuts.
//
// Bytes from the serial line arrive on stdin; what the device prints leaves on stdout (the Python
// launcher in tools/vterm/__init__.py bridges both to a pseudo-terminal that mpremote opens).
//
//   node vterm.mjs --root DIR [--size-limit BYTES] [--heap BYTES]
//
// Why each piece exists:
// - The REPL is MicroPython's own event-driven one (replInit / replProcessChar): the friendly and
//   raw REPL behave as on a board, because it is the same C code. Raw-paste mode is spoken by the
//   bridge (see rawPaste: this port's own raw-paste reader cannot wait for input).
// - A soft reset (Ctrl-D at an empty REPL) ends that REPL in this port, so the bridge performs the
//   soft reboot itself, like a board: "MPY: soft reboot", a fresh interpreter, the same files,
//   boot.py, and back into raw REPL mode if that is where the reset came from.
// - Every change to the filesystem is written through to the host folder at once (so tests can
//   inspect it and a killed process is a faithful power cut), and a size limit turns writes past
//   it into ENOSPC (errno 28, what LittleFS on the ESP32 raises) for the full-filesystem case.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";

const WASI_ENOSPC = 51; // translated to 28 (ENOSPC) on the way out, like LittleFS on the ESP32
const SYSTEM_DIRS = ["/dev", "/proc", "/tmp", "/home"]; // emscripten's own, not the device's
const BLOCK = 4096;

function parseArgs(argv) {
  const opts = { root: null, sizeLimit: 0, heap: 256 * 1024 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root") opts.root = argv[++i];
    else if (a === "--size-limit") opts.sizeLimit = parseInt(argv[++i], 10);
    else if (a === "--heap") opts.heap = parseInt(argv[++i], 10);
    else throw new Error("unknown argument " + a);
  }
  if (!opts.root) throw new Error("--root DIR is required");
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
fs.mkdirSync(opts.root, { recursive: true });

// ---- serial line: synchronous on purpose ---------------------------------------------------
// Code running on the device may read stdin from inside a REPL call (sys.stdin, mpremote's
// protocols): emscripten performs that as a blocking read through Module.stdin. So all input goes
// through one buffer filled by blocking reads of fd 0, and output is written synchronously before
// every wait for input: otherwise the device's answer would sit in a buffer while it waits for the
// host's next bytes.
let outChunks = [];
let quiet = false;
const inBuf = [];
let inEOF = false;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

let outBytes = 0;
let dropOK = 0; // bytes of the raw REPL's "OK" still to hide (see rawPaste)
function emit(bytes) {
  if (quiet) return;
  let b = Buffer.from(bytes);
  while (dropOK > 0 && b.length) { b = b.subarray(1); dropOK--; }
  if (!b.length) return;
  outChunks.push(b);
  outBytes += b.length;
  // A running program's output must reach the host as it goes (progress, inter-byte time-outs),
  // not when the program ends: flush at each line end and every few hundred bytes.
  if (b.includes(0x0a) || outBytes >= 512) flush();
}
const emitText = (s) => emit(Buffer.from(s, "utf8"));

function flush() {
  if (!outChunks.length) return;
  let data = Buffer.concat(outChunks);
  outChunks = [];
  outBytes = 0;
  while (data.length) {
    try {
      data = data.subarray(fs.writeSync(1, data));
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      Atomics.wait(sleeper, 0, 0, 2);
    }
  }
}

function fill() {
  // Block until the line delivers at least one byte (or closes).
  flush();
  const buf = Buffer.alloc(4096);
  while (!inBuf.length && !inEOF) {
    let n = 0;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") { Atomics.wait(sleeper, 0, 0, 2); continue; }
      if (e.code === "EOF") n = 0;
      else throw e;
    }
    if (n === 0) inEOF = true;
    for (let i = 0; i < n; i++) inBuf.push(buf[i]);
  }
}

function readByte() {
  if (!inBuf.length) fill();
  return inBuf.length ? inBuf.shift() : null;
}

// ---- filesystem: host folder <-> MEMFS ------------------------------------------------------
function isDeviceFile(p) {
  if (typeof p !== "string" || !p.startsWith("/")) return false;
  return !SYSTEM_DIRS.some((d) => p === d || p.startsWith(d + "/"));
}
const hostPath = (p) => path.join(opts.root, p);

function loadTree(FS) {
  const walk = (hostDir, devDir) => {
    for (const name of fs.readdirSync(hostDir).sort()) {
      const h = path.join(hostDir, name);
      const d = (devDir === "/" ? "" : devDir) + "/" + name;
      if (!isDeviceFile(d)) continue;
      const st = fs.statSync(h);
      if (st.isDirectory()) {
        try { FS.mkdir(d); } catch (e) { /* exists */ }
        walk(h, d);
      } else {
        FS.writeFile(d, fs.readFileSync(h));
      }
    }
  };
  walk(opts.root, "/");
}

function usage(FS) {
  // Bytes the device's files occupy, counted in whole blocks as a flash filesystem does.
  let total = 0;
  const walk = (dir) => {
    for (const name of FS.readdir(dir)) {
      if (name === "." || name === "..") continue;
      const p = (dir === "/" ? "" : dir) + "/" + name;
      if (!isDeviceFile(p)) continue;
      const st = FS.stat(p);
      if (FS.isDir(st.mode)) walk(p);
      else total += Math.ceil(st.size / BLOCK) * BLOCK;
    }
  };
  walk("/");
  return total;
}

function persistNode(FS, devPath) {
  const node = FS.lookupPath(devPath).node;
  const data = node.contents ? Buffer.from(node.contents.subarray(0, node.usedBytes)) : Buffer.alloc(0);
  fs.mkdirSync(path.dirname(hostPath(devPath)), { recursive: true });
  fs.writeFileSync(hostPath(devPath), data);
}

// Emscripten's filesystem reports WASI error numbers (ENOENT is 44), while this MicroPython's own
// errno module, a board and mpremote use MicroPython's numbering (ENOENT is 2). Errors leaving the
// outermost filesystem call are renumbered, so `OSError: [Errno 2] ENOENT` reads as on an ESP32;
// nested calls inside emscripten keep the numbers its own code compares against.
const WASI_TO_MP = {
  63: 1, 44: 2, 29: 5, 60: 6, 1: 7, 8: 9, 6: 11, 48: 12, 2: 13, 10: 16, 20: 17, 75: 18, 43: 19,
  54: 20, 31: 21, 28: 22, 41: 23, 33: 24, 59: 25, 22: 27, 51: 28, 70: 29, 69: 30, 34: 31, 64: 32,
  37: 36, 52: 38, 55: 39, 32: 40, 58: 95,
};
function renumberErrors(FS) {
  let depth = 0;
  for (const name of ["stat", "lstat", "open", "close", "read", "write", "llseek", "mkdir", "rmdir",
    "unlink", "rename", "readdir", "chdir", "statfs", "truncate", "ftruncate"]) {
    const inner = FS[name];
    if (typeof inner !== "function") continue;
    FS[name] = function () {
      depth++;
      try {
        return inner.apply(this, arguments);
      } catch (e) {
        if (depth === 1 && e && e.name === "ErrnoError" && !e.renumbered && WASI_TO_MP[e.errno]) {
          const out = new FS.ErrnoError(WASI_TO_MP[e.errno]);
          out.renumbered = true;
          throw out;
        }
        throw e;
      } finally {
        depth--;
      }
    };
  }
}

function patchFS(FS) {
  const orig = {
    write: FS.write, open: FS.open, rename: FS.rename, unlink: FS.unlink, rmdir: FS.rmdir,
    mkdir: FS.mkdir, truncate: FS.truncate, ftruncate: FS.ftruncate, statfsNode: FS.statfsNode,
  };
  FS.write = function (stream, buffer, offset, length, position, canOwn) {
    const p = stream.path;
    if (opts.sizeLimit > 0 && isDeviceFile(p) && length > 0) {
      const node = stream.node;
      const pos = (stream.flags & 1024) ? node.usedBytes : (position !== undefined ? position : stream.position);
      const oldBlocks = Math.ceil(node.usedBytes / BLOCK);
      const newBlocks = Math.ceil(Math.max(node.usedBytes, pos + length) / BLOCK);
      if (usage(FS) + (newBlocks - oldBlocks) * BLOCK > opts.sizeLimit) throw new FS.ErrnoError(WASI_ENOSPC);
    }
    const n = orig.write.apply(this, arguments);
    if (isDeviceFile(p)) persistNode(FS, p);
    return n;
  };
  FS.open = function (p, flags, mode) {
    const stream = orig.open.apply(this, arguments);
    // A file opened for writing exists (and is truncated) on the device from this moment.
    if (typeof flags === "number" && (flags & 3) && isDeviceFile(stream.path)) persistNode(FS, stream.path);
    return stream;
  };
  FS.rename = function (oldPath, newPath) {
    orig.rename.apply(this, arguments);
    if (isDeviceFile(oldPath) && isDeviceFile(newPath)) {
      fs.mkdirSync(path.dirname(hostPath(newPath)), { recursive: true });
      fs.renameSync(hostPath(oldPath), hostPath(newPath));
    }
  };
  FS.unlink = function (p) {
    orig.unlink.apply(this, arguments);
    if (isDeviceFile(p)) fs.rmSync(hostPath(p), { force: true });
  };
  FS.rmdir = function (p) {
    orig.rmdir.apply(this, arguments);
    if (isDeviceFile(p)) fs.rmSync(hostPath(p), { recursive: true, force: true });
  };
  FS.mkdir = function (p, mode) {
    const node = orig.mkdir.apply(this, arguments);
    if (isDeviceFile(p)) fs.mkdirSync(hostPath(p), { recursive: true });
    return node;
  };
  FS.truncate = function (p, len) {
    orig.truncate.apply(this, arguments);
    const devPath = typeof p === "string" ? p : FS.getPath(p);
    if (isDeviceFile(devPath)) persistNode(FS, devPath);
  };
  FS.statfsNode = function (node) {
    const st = orig.statfsNode.apply(this, arguments);
    if (opts.sizeLimit > 0) {
      const blocks = Math.floor(opts.sizeLimit / BLOCK);
      const free = Math.max(0, blocks - Math.ceil(usage(FS) / BLOCK));
      Object.assign(st, { bsize: BLOCK, frsize: BLOCK, blocks, bfree: free, bavail: free });
    }
    return st;
  };
}

// ---- the device: boot, REPL, soft reboot ----------------------------------------------------
let mp = null;
let rawMode = false; // which REPL mode the host last asked for (Ctrl-A raw, Ctrl-B friendly)

function runBootPy() {
  let exists = false;
  try { mp.FS.stat("/boot.py"); exists = true; } catch (e) { /* no boot.py */ }
  if (!exists) return;
  try {
    mp.runPython("exec(open('/boot.py').read(), {'__name__': '__main__'})");
  } catch (e) {
    emitText(String(e.message || e).replace(/\r?\n/g, "\r\n"));
  }
}

async function boot() {
  mp = await loadMicroPython({ stdin: readByte, stdout: emit, stderr: emit, linebuffer: false, heapsize: opts.heap });
  for (const d of ["/home/web_user", "/home", "/tmp"]) { try { mp.FS.rmdir(d); } catch (e) { /* gone */ } }
  loadTree(mp.FS);
  patchFS(mp.FS);
  renumberErrors(mp.FS);
  mp.FS.chdir("/");
  runBootPy();
  // main.py is never run: a board in raw REPL skips it too, and here nothing could interrupt it.
  if (rawMode) {
    quiet = true;
    mp.replInit();
    quiet = false;
    await mp.replProcessCharWithAsyncify(0x01); // prints "raw REPL; CTRL-B to exit\r\n>"
  } else {
    mp.replInit(); // banner and ">>> "
  }
}

async function softReboot() {
  emitText("MPY: soft reboot\r\n");
  await boot();
}

async function feed(c) {
  if (c === 0x01) rawMode = true;
  else if (c === 0x02) rawMode = false;
  let result = 0;
  try {
    result = await mp.replProcessCharWithAsyncify(c);
  } catch (e) {
    emitText("\r\nvterm: " + String(e.message || e).replace(/\r?\n/g, "\r\n") + "\r\n");
    result = 1; // the interpreter died: reboot like a board's watchdog would
  }
  if (result) await softReboot();
}

// Raw-paste mode (Ctrl-E "A" Ctrl-A at the raw prompt), spoken by the bridge: this port's
// MicroPython cannot read stdin from inside a REPL call (its raw-paste reader spins on an empty
// stdin), so the bridge runs the flow-control protocol as a board does, then hands the collected
// source to the raw REPL and hides the raw REPL's "OK" (raw-paste answers without it).
const PASTE_WINDOW = 256;
async function rawPaste() {
  emit(Buffer.from([0x52, 0x01, PASTE_WINDOW & 0xff, PASTE_WINDOW >> 8]));
  const code = [];
  let remain = PASTE_WINDOW;
  for (;;) {
    const x = readByte();
    if (x === null) return;
    if (x === 0x04) break;
    if (x === 0x03) { emit([0x04]); return; } // interrupted mid-paste: drop it, as a board does
    code.push(x);
    if (--remain === 0) { emit([0x01]); remain = PASTE_WINDOW; }
  }
  emit([0x04]); // end of data acknowledged
  flush(); // now, before the code runs: the host waits for it with a time-out
  for (const x of code) await feed(x);
  dropOK = 2;
  await feed(0x04);
  dropOK = 0;
}

// Input is processed strictly in order, one byte at a time, as a UART would deliver it.
async function serve() {
  for (;;) {
    const c = readByte();
    if (c === null) break; // the line closed: the launcher is gone
    if (rawMode && c === 0x05) {
      const a = readByte();
      const b = a === 0x41 ? readByte() : null;
      if (a === 0x41 && b === 0x01) { await rawPaste(); continue; }
      for (const x of [c, a, b]) if (x !== null) await feed(x);
      continue;
    }
    await feed(c);
  }
  flush();
  process.exit(0);
}

await boot();
flush();
process.stderr.write("vterm: ready\n");
await serve();
