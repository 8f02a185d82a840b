"""deploy: put the firmware on a terminal, copying only what changed, resumable after any cut.

1. Build the device files (tools/terminal/build.py) and hash them.
2. Remove stale `.part` files an interrupted deploy left, and hash what the device holds now (on
   the device, one round trip): the device's real content decides what to copy, so a deploy cut at
   any point simply continues where it stopped.
3. Mark /manifest.json "complete": false, check the free space, copy each changed file crash-safely
   (device.write_file: temp name, verify, rename), main.py last, and delete files an earlier deploy
   installed that this one no longer has, plus any `.py` that would shadow a new `.mpy`.
4. Install the micropython-lib packages the firmware wants with mip when the device lacks them.
5. Write /manifest.json (version, file hashes, packages, "complete": true) atomically.
"""
import hashlib
import json

from tools.terminal import build as build_mod
from tools.terminal import errors
from tools.terminal.device import PART_SUFFIX, DeviceCodeError
from tools.terminal.errors import TerminalError

MANIFEST_PATH = "/manifest.json"
_RESERVE = 4096  # keep a block free for the journal and config


def read_manifest(device):
    data = device.read_file(MANIFEST_PATH)
    if data is None:
        return None
    try:
        manifest = json.loads(data)
        return manifest if isinstance(manifest, dict) else None
    except ValueError:
        return None


def write_manifest(device, manifest):
    device.write_file(MANIFEST_PATH, json.dumps(manifest, sort_keys=True).encode())


def plan(files, on_device, old_manifest):
    """What to copy and what to delete. Returns (copy list, delete list), both sorted."""
    copy = sorted(p for p, data in files.items() if on_device.get(p) != hashlib.sha256(data).hexdigest())
    old = set((old_manifest or {}).get("files", {}))
    delete = set(p for p in old if p not in files and p != MANIFEST_PATH)
    for p in files:  # a source file next to its compiled module wins at import: remove it
        if p.endswith(".mpy"):
            delete.add(p[:-4] + ".py")
    # main.py goes last: until it is in place, the old entry point still matches the old files.
    copy.sort(key=lambda p: (p == "/main.py", p))
    return copy, sorted(delete - set(files))


def deploy(device, log, root=build_mod.REPO, compiled=True, mip=True, mip_index=None, force=False, frozen=False):
    files = build_mod.build(root, compiled=compiled)
    if frozen:  # firmware/ and lib/ are in the image: a filesystem copy would shadow them
        files = {p: d for p, d in files.items()
                 if p.lstrip("/") in build_mod.ENTRY_FILES or p.endswith(build_mod.DATA_SUFFIXES)}
    version = build_mod.read_version(root)
    log("built %d files (%s), version %s" % (len(files), "frozen image: entry files, fonts and words" if frozen else
                                            "mpy-cross -O3" if compiled else "source", version))

    present = device.walk("/")
    stale = sorted(p for p in present if p.endswith(PART_SUFFIX))
    for p in stale:
        device.remove(p)
        log("removed %s (left by an interrupted deploy)" % p)

    on_device = {} if force else device.hashes(sorted(files))
    old_manifest = read_manifest(device)
    copy, delete = plan(files, on_device, old_manifest)
    delete = [p for p in delete if p in present]

    need = sum(len(files[p]) for p in copy)
    free = device.free_bytes()
    largest = max([len(files[p]) for p in copy] or [0])
    if free is not None and copy:
        reclaim = sum(present.get(p, 0) for p in copy)
        if need - reclaim + largest + _RESERVE > free:
            raise TerminalError("The terminal's filesystem is full: this deploy needs about %d KB more than "
                                "the %d KB free; remove files or erase it (`flash`) and deploy again."
                                % (max(1, (need - reclaim + largest + _RESERVE - free) // 1024), free // 1024),
                                errors.FILESYSTEM_FULL)

    unchanged = len(files) - len(copy)
    # What /manifest.json on the device says right now: the marker below changes it, so the final
    # comparison must be against the marker, not against the manifest read at the start.
    on_flash = old_manifest
    if copy or delete or not (old_manifest or {}).get("complete"):
        on_flash = dict(old_manifest or {}, version=version, complete=False)
        write_manifest(device, on_flash)
    for i, path in enumerate(copy, 1):
        device.write_file(path, files[path])
        log("[%d/%d] %s (%d bytes)" % (i, len(copy), path, len(files[path])))
    for path in delete:
        device.remove(path)
        log("deleted %s" % path)
    log("copied %d, unchanged %d, deleted %d" % (len(copy), unchanged, len(delete)))

    packages = install_packages(device, log, mip, mip_index)
    manifest = {
        "version": version,
        "complete": True,
        "compiled": compiled,
        "frozen": frozen,
        "files": {p: hashlib.sha256(d).hexdigest() for p, d in sorted(files.items())},
        "packages": packages,
    }
    if manifest != on_flash:  # an unchanged deploy writes nothing to flash
        write_manifest(device, manifest)
        log("manifest written: %s (version %s, %d files)" % (MANIFEST_PATH, version, len(files)))
    else:
        log("manifest unchanged: %s (version %s, %d files)" % (MANIFEST_PATH, version, len(files)))
    # "deploy complete" is said only once the device itself says so.
    if read_manifest(device) != manifest:
        raise TerminalError("%s on the terminal does not read back as a complete deploy: run deploy again."
                            % MANIFEST_PATH, errors.GENERAL)
    return {"copied": copy, "deleted": delete, "unchanged": unchanged, "manifest": manifest}


def has_module(device, name):
    out = device.run("try:\n import %s\n print('HAVE')\nexcept ImportError:\n print('MISSING')" % name)
    return "HAVE" in out


def install_packages(device, log, mip=True, index=None):
    """Install the micropython-lib packages the device lacks; returns {name: state}."""
    states = {}
    for name in build_mod.MIP_PACKAGES:
        if has_module(device, name):
            states[name] = "present"
            log("package %s: already on the device" % name)
            continue
        if not mip:
            states[name] = "missing"
            log("SKIPPED: mip install %s (--no-mip): the firmware falls back to its own HTTP client; run "
                "deploy again with network access to install it" % name)
            continue
        log("package %s: installing with mip%s" % (name, " from " + index if index else ""))
        mip_install(device, name, index)
        if not has_module(device, name):
            raise TerminalError("mip installed %s but the device still cannot import it: run deploy again."
                                % name, errors.TOOL)
        states[name] = "installed"
    return states


def mip_install(device, name, index=None):
    """mpremote's own mip (host downloads, device receives) into /lib."""
    import contextlib
    import io

    from mpremote import mip as mpremote_mip
    from mpremote.commands import CommandError

    index = (index or mpremote_mip._PACKAGE_INDEX).rstrip("/")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            mpremote_mip._install_package(_AtomicWrites(device), name, index, "/lib",
                                          build_mod.MIP_PACKAGES.get(name), True)
    except CommandError as e:
        raise TerminalError("Cannot install %s with mip from %s (%s): connect this computer to the "
                            "internet, or pass --no-mip to deploy without it." % (name, index, e), errors.TOOL)
    except DeviceCodeError as e:
        raise TerminalError("mip could not write %s on the device: %s" % (name, e.message), errors.TOOL)
    except Exception as e:  # mpremote raises OSError subclasses for device file errors
        text = str(e)
        if "ENOSPC" in text or "No space" in text or getattr(e, "errno", None) == 28:
            raise TerminalError("The terminal's filesystem is full while installing %s: remove files or "
                                "erase it (`flash`) and deploy again." % name, errors.FILESYSTEM_FULL)
        raise TerminalError("mip failed to install %s: %s" % (name, text or e.__class__.__name__), errors.TOOL)


class _AtomicWrites:
    """mpremote's transport for mip, except that files are written the crash-safe way (temp, verify,
    rename): an install cut short leaves whole files or none, and mip's own hash check on the next
    run skips the ones already complete."""

    def __init__(self, device):
        self._device = device

    def fs_writefile(self, dest, data, chunk_size=256, progress_callback=None):
        self._device.write_file(dest, data)

    def __getattr__(self, name):
        return getattr(self._device.transport, name)
