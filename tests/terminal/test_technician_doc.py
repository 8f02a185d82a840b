"""Every command in docs/technician.md is run by a test (named here), or listed with the reason it
cannot run on this machine; every documented `alipay-terminal` line parses with the real CLI; and
section 6's virtual-terminal lines run as written."""
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from tests.terminal.conftest import ROOT, cli

DOC = os.path.join(ROOT, "docs", "technician.md")
PROGRAMS = ("alipay-terminal", "mpremote", "python", "python3", "git", "make", "cd", "sh", "cp",
            "ALIPAY_TERMINAL_SECRET=...")

# command (its first words) -> the test that runs it, as "file::function"
RUN_BY = {
    "alipay-terminal": "tests/terminal/test_boards_docs.py::test_boards_command_lists_and_dumps_the_table",
    "mpremote fs rm": "tests/terminal/test_technician_doc.py::test_section_6_runs_as_written",
    "alipay-terminal flash": "tests/terminal/test_flash.py::test_flash_erases_writes_and_verifies_through_esptool",
    "alipay-terminal deploy": "tests/terminal/test_deploy.py::test_fresh_deploy_installs_every_file_and_a_manifest",
    "alipay-terminal deploy --frozen": "tests/terminal/test_packaging.py::test_frozen_deploy_keeps_only_the_entry_files_fonts_and_words",
    "alipay-terminal provision --create": ("tests/terminal/test_provision.py::"
                                           "test_create_registers_at_the_gateway_and_a_second_create_is_refused"),
    "alipay-terminal provision": ("tests/terminal/test_provision.py::"
                                  "test_provision_writes_exactly_the_config_and_hides_the_secret"),
    "alipay-terminal selftest": ("tests/terminal/test_status_selftest.py::"
                                 "test_selftest_on_the_virtual_terminal_skips_hardware_with_reasons"),
    "alipay-terminal selftest --measure": ("tests/terminal/test_measure.py::"
                                           "test_measure_on_the_virtual_terminal_reports_what_it_can"),
    "alipay-terminal status": ("tests/terminal/test_deploy.py::"
                               "test_deploy_after_verify_found_a_damaged_file_ends_complete"),
    "alipay-terminal logs": "tests/terminal/test_status_selftest.py::test_logs_print_times_people_read",
    "alipay-terminal boards": "tests/terminal/test_boards_docs.py::test_boards_command_lists_and_dumps_the_table",
    "alipay-terminal package-json": "tests/terminal/test_packaging.py::test_package_json_check_command",
    "mpremote connect mip install ./package.json": ("tests/terminal/test_packaging.py::"
                                                    "test_mpremote_mip_installs_the_firmware_from_the_checkout"),
    "mpremote connect fs ls": "tests/terminal/test_technician_doc.py::test_section_6_runs_as_written",
    "python -m tools.vterm": "tests/terminal/test_technician_doc.py::test_section_6_runs_as_written",
    "python -m tools.gateway terminal add": "tests/terminal/test_docs_commands.py::"
                                            "test_gateway_run_it_works_pasted_into_a_fresh_clone",
    "python -m tools.gateway payments list": "tests/gateway/test_store_config_cli.py::"
                                             "test_cli_terminals_payments_refund_events",
    "python -m tools.gateway terminal set-pin": ("tests/gateway/test_security_small.py::"
                                                 "test_a_pin_on_the_command_line_is_refused"),
    "python -m tools.gateway terminal revoke": ("tests/gateway/test_store_config_cli.py::"
                                                "test_cli_terminals_payments_refund_events"),
    "python -m tools.gateway alerts": "tests/gateway/test_store_config_cli.py::test_cli_terminals_payments_refund_events",
    "python -m tools.gateway terminal rotate-secret": ("tests/gateway/test_operator_cli.py::"
                                                      "test_rotate_secret_refuses_the_old_secret_and_accepts_the_new"),
    "python -m tools.sim run": "tests/firmware/test_demo.py::test_scripted_demo",
    "make demo": "tests/firmware/test_demo.py::test_scripted_demo",
    "sh examples/make-tls-certs.sh": ("tests/terminal/test_docs_commands.py::"
                                      "test_example_shop_config_and_certificate_provision_every_preset"),
    "cp examples/shop.json": ("tests/terminal/test_docs_commands.py::"
                              "test_example_shop_config_and_certificate_provision_every_preset"),
}
# command -> why no test runs it here
NOT_RUN = {
    "make test": "it is the test suite itself",
    "python3 -m venv": "what `make setup` (tools/setup.sh) does before every test run",
    "mpremote connect mip install github:": "needs the repository published on GitHub and internet",
    "git clone": "the frozen build needs the ESP-IDF toolchain (documented, not run)",
    "make -C mpy-cross": "the frozen build needs the ESP-IDF toolchain",
    "make submodules": "the frozen build needs the ESP-IDF toolchain",
    "make BOARD=": "the frozen build needs the ESP-IDF toolchain",
    "cd ports/esp32": "the frozen build needs the ESP-IDF toolchain",
}


def doc_commands():
    """Every command line of the guide: indented code lines and inline code that start with a
    program name (continuation lines joined)."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^ {4,}\S", line) and not line.lstrip().startswith(("|", "{", '"', "#", "-")):
            cmd = line.strip()
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
            found.append(cmd.split("  #")[0].strip())
        i += 1
    for code in re.findall(r"`([^`\n]+)`", text):
        found.append(code.strip())
    # "alipay-terminal deploy/provision" in a sentence names two commands, it is not one
    return [c for c in found if c.split(" ")[0] in PROGRAMS and " " in c and "/" not in c.split(" ")[1]]


def key_of(cmd):
    """The RUN_BY / NOT_RUN entry a command belongs to (longest matching prefix of its words)."""
    cmd = cmd.replace(".venv/bin/", "").replace("python -m tools.terminal", "alipay-terminal")
    words = cmd.split()
    if words and words[0].startswith("ALIPAY_TERMINAL_SECRET="):
        words = words[1:]
    if words[:1] == ["alipay-terminal"]:
        flags = [w for w in words[2:] if w in ("--create", "--frozen", "--measure")]
        return " ".join(words[:2] + flags[:1])
    flat = re.sub(r"connect \S+", "connect", " ".join(words))
    flat = flat.replace("--target / ", "")
    for key in sorted(list(RUN_BY) + list(NOT_RUN), key=len, reverse=True):
        if flat.startswith(key):
            return key
    return flat


def test_every_command_in_the_guide_is_run_by_a_test_or_says_why_not():
    commands = doc_commands()
    assert len(commands) > 20
    unknown = sorted(set(c for c in commands if key_of(c) not in RUN_BY and key_of(c) not in NOT_RUN))
    assert not unknown, "commands in docs/technician.md that no test runs: %s" % unknown


def test_the_named_tests_exist():
    for key, ref in RUN_BY.items():
        path, name = ref.split("::")
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            assert "def %s(" % name in f.read(), "%s: %s is gone" % (key, ref)


def test_every_documented_alipay_terminal_line_parses_with_the_cli():
    from tools.terminal.__main__ import build_parser
    parser = build_parser()
    for cmd in doc_commands():
        words = shlex.split(cmd.replace("ALIPAY_TERMINAL_SECRET=... ", "").replace(".venv/bin/", ""))
        if words[0] != "alipay-terminal" or len(words) < 2 or words[1] == "--help":
            continue
        try:
            parser.parse_args(words[1:])
        except SystemExit:
            pytest.fail("docs/technician.md: %r is not a valid alipay-terminal command line" % cmd)


def test_section_6_runs_as_written(tmp_path):
    """The virtual-terminal lines, with /tmp/dev1 in a temporary folder."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    block = text[text.index("## 6."):]
    lines = [l.strip() for l in block.splitlines() if l.startswith("    ")][:3]
    lines = [l.split("  #")[0].strip().replace("/tmp/dev1", str(tmp_path / "dev1")) for l in lines]
    assert lines[0].startswith("python -m tools.vterm") and lines[1].startswith("alipay-terminal deploy")
    vterm = subprocess.Popen([sys.executable] + shlex.split(lines[0])[1:], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        port = str(tmp_path / "dev1.port")
        deadline = time.monotonic() + 60
        while not os.path.exists(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert os.path.exists(port), "the virtual terminal made no port"
        r = cli(*shlex.split(lines[1])[1:], timeout=300)
        assert r.returncode == 0 and "deploy complete" in r.stdout, r.stderr
        r = subprocess.run([sys.executable, "-m"] + shlex.split(lines[2]), cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and "manifest.json" in r.stdout and "firmware/" in r.stdout, r.stdout + r.stderr
        # Error table: "delete old files with `mpremote fs rm`".
        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "fs", "rm", ":/manifest.json"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and not os.path.exists(str(tmp_path / "dev1" / "manifest.json")), r.stderr
    finally:
        vterm.terminate()
        try:
            vterm.wait(timeout=20)
        except subprocess.TimeoutExpired:
            vterm.kill()
        vterm.stdout.close()
