// Shared by the Node drivers of the real-MicroPython layer: a fresh WebAssembly MicroPython with
// device files written into its filesystem where the device keeps them, and a JSON request on stdin.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

function mkdirs(FS, path) {
  let cur = "";
  for (const part of path.split("/").filter(Boolean).slice(0, -1)) {
    cur += "/" + part;
    try { FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

export async function loadWithFiles(files, options) {
  const mp = await loadMicroPython(options);
  try { mp.FS.mkdir("/lib"); } catch (e) { /* exists */ }
  for (const [path, text] of Object.entries(files || {})) {
    mkdirs(mp.FS, path);
    // A data file (a font) comes base64-encoded as {"b64": ...}; source comes as text.
    mp.FS.writeFile(path, typeof text === "string" ? text : Buffer.from(text.b64, "base64"));
  }
  return mp;
}

export async function readJsonRequest() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  return JSON.parse(input);
}
