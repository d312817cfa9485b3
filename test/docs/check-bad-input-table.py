"""Runs every row of the table in docs/bad-input.md and checks that the
command exits with status 1 and prints exactly the documented error line,
so that the table cannot drift from what the tools say.

The commands run in a scratch folder laid out here: the models of the
import error tests (their split-file sections), the external-data models,
symlinks and a FIFO, and programs and .npy files made hostile on purpose.
Only the Python standard library and protoc are needed.
"""

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys


def split_file_sections(path):
    """The `//--- NAME` (or `#--- NAME`) sections of a split-file lit
    test."""
    sections, name = {}, None
    with open(path) as f:
        for line in f:
            match = re.match(r"^(?://|#)--- (\S+)$", line.rstrip("\n"))
            if match:
                name = match.group(1)
                sections[name] = ""
            elif name:
                sections[name] += line
    return sections


def npy(path, header, data):
    """A version 1.0 .npy file with `header` (the dict text) and `data`."""
    text = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)))
        f.write(text.encode() + data)


def rewrite_program(source, target, proto, edit):
    """Copies program `source` to `target` with its Program message decoded
    to text by protoc, changed by `edit` (text -> text) and encoded again."""
    with open(source, "rb") as f:
        blob = f.read()
    program_offset, program_size, weights_offset, weights_size = struct.unpack(
        "<4Q", blob[16:48])
    message = blob[program_offset:program_offset + program_size]
    run = lambda flag, data: subprocess.run(
        ["protoc", flag + "=dsp.program.Program", "-I", os.path.dirname(proto),
         os.path.basename(proto)], input=data, capture_output=True,
        check=True).stdout
    text = edit(run("--decode", message).decode())
    message = run("--encode", text.encode())
    weights = blob[weights_offset:weights_offset + weights_size]
    new_weights_offset = (64 + len(message) + 63) // 64 * 64
    header = bytearray(blob[:64])
    header[16:48] = struct.pack("<4Q", 64, len(message), new_weights_offset,
                                len(weights))
    with open(target, "wb") as f:
        f.write(bytes(header) + message)
        f.write(b"\0" * (new_weights_offset - 64 - len(message)) + weights)


def lay_out(workdir, source, dsp_opt):
    os.makedirs(workdir)
    for test in ("test/Import/onnx-build-errors.test",
                 "test/Import/freeze-input.test",
                 "test/Target/emit-program-aliased-outputs.test"):
        for name, text in split_file_sections(os.path.join(source, test)).items():
            with open(os.path.join(workdir, name), "w") as f:
                f.write(text)
    inputs = os.path.join(source, "test/Import/Inputs")
    for name in os.listdir(inputs):
        if name.startswith(("external-", "text-mask")):
            shutil.copy(os.path.join(inputs, name), workdir)
    os.symlink("/etc/passwd", os.path.join(workdir, "link.bin"))
    os.symlink("/etc", os.path.join(workdir, "etc"))
    os.mkfifo(os.path.join(workdir, "fifo.bin"))
    os.mkfifo(os.path.join(workdir, "fifo.npy"))
    os.mkfifo(os.path.join(workdir, "fifo.dspx"))
    os.symlink("/dev/zero", os.path.join(workdir, "zero.onnx"))
    shutil.copy(os.path.join(source, "examples/stdit_tiny.onnx"), workdir)

    # A valid program and inputs for the runtime's rows.
    subprocess.run([dsp_opt, "passthru.onnxtxt", "--dsp-pipeline=ranks=2",
                    "--emit=program", "-o", "passthru.dspx"], cwd=workdir,
                   check=True)
    ones = struct.pack("<24f", *([1.0] * 24))
    npy(os.path.join(workdir, "x.npy"),
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 4), }", ones)
    npy(os.path.join(workdir, "zeros.npy"),
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 4), }",
        bytes(96))
    npy(os.path.join(workdir, "twice.npy"),
        "{'descr': '<i8', 'descr': '<f4', 'fortran_order': False, "
        "'shape': (6, 4), }", ones)
    npy(os.path.join(workdir, "huge.npy"),
        "{'descr': '<f4', 'fortran_order': False, "
        "'shape': (4294967296, 4294967296), }", ones)
    proto = os.path.join(source, "lib/Format/Program.proto")
    program = os.path.join(workdir, "passthru.dspx")
    for name, pattern, value in (
            ("arena.dspx", r"arena_bytes: \d+", "arena_bytes: 18446744073709551615"),
            ("ranks.dspx", r"ranks: \d+", "ranks: 4294967295")):
        rewrite_program(program, os.path.join(workdir, name), proto,
                        lambda text: re.sub(pattern, value, text, count=1))


def table_rows(doc):
    """(what, command, error line) for each row of the table."""
    rows = []
    with open(doc) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if (len(cells) == 3 and cells[1].startswith("`")
                    and cells[2].startswith("`")):
                rows.append((cells[0], cells[1].strip("`"),
                             cells[2].strip("`").replace("\\|", "|")))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--doc", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--tools", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    args.source, args.tools = map(os.path.abspath, (args.source, args.tools))
    shutil.rmtree(args.workdir, ignore_errors=True)
    dsp_opt = os.path.join(args.tools, "dsp-opt")
    lay_out(args.workdir, args.source, dsp_opt)
    env = dict(os.environ, PATH=args.tools + os.pathsep + os.environ["PATH"])
    rows = table_rows(args.doc)
    failed = 0
    for what, command, expected in rows:
        try:
            result = subprocess.run(command, shell=True, cwd=args.workdir,
                                    env=env, capture_output=True, text=True,
                                    timeout=120, stdin=subprocess.DEVNULL)
            output = result.stdout + result.stderr
            lines = output.splitlines()
            ok = result.returncode == 1 and expected in lines
            problem = "exit status %d, output:\n%s" % (result.returncode,
                                                       output)
        except subprocess.TimeoutExpired:
            ok, problem = False, "did not finish within 120 s"
        if not ok:
            failed += 1
            print("FAIL: %s\n  command: %s\n  expected line: %s\n  %s" %
                  (what, command, expected, problem))
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
