// Runs Python inside the official WebAssembly MicroPython for the host tests.
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
//   request: {"id": n, "files": {"/lib/uqr.py": "..."}, "code": "...", "heapsize": bytes|null}
//   answer:  {"id": n, "ok": true|false, "stdout": "...", "error": "traceback"|null}
// Each request gets a fresh interpreter (about 5 ms), so tests cannot leak state into each other,
// while Node itself starts once per test session.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import readline from "node:readline";

function mkdirs(FS, path) {
  const parts = path.split("/").filter(Boolean);
  let cur = "";
  for (const part of parts.slice(0, -1)) {
    cur += "/" + part;
    try { FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

async function run(req) {
  // Unbuffered output arrives as byte arrays; collect and decode once.
  const chunks = [];
  const write = (b) => { chunks.push(typeof b === "string" ? Buffer.from(b) : Buffer.from(b)); };
  const text = () => Buffer.concat(chunks).toString("utf8");
  const options = { stdout: write, stderr: write, linebuffer: false };
  if (req.heapsize) options.heapsize = req.heapsize;
  const mp = await loadMicroPython(options);
  try { mp.FS.mkdir("/lib"); } catch (e) { /* exists */ }
  for (const [path, text] of Object.entries(req.files || {})) {
    mkdirs(mp.FS, path);
    mp.FS.writeFile(path, text);
  }
  try {
    mp.runPython(req.code);
    return { id: req.id, ok: true, stdout: text(), error: null };
  } catch (e) {
    return { id: req.id, ok: false, stdout: text(), error: String(e.message || e) };
  }
}

// Requests are answered strictly in order, one interpreter at a time.
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let queue = Promise.resolve();
rl.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let answer;
    try {
      answer = await run(JSON.parse(line));
    } catch (e) {
      answer = { id: null, ok: false, stdout: "", error: "runner: " + e };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  });
});
