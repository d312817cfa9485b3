"""Runs the commands a reader can copy from README.md, docs/*.md and
examples/README.md, so that the docs cannot drift from what the tools do.

Every fenced block tagged `sh` or `console` runs, in a scratch copy of the
repository root (examples/ copied, the other folders linked, `build` the
build folder, the shared models beside it as in a checkout) with the tools
on PATH:

- an `sh` block runs as one bash script and must exit 0;
- a `console` block's lines that start with `$ ` (continued by a trailing
  backslash) are the commands, run in order as one script; the other lines
  are what they print. Each of those must appear in the output, in order
  (blanks collapsed); a line `...` stands for any lines, and `...` inside a
  line for any text.

A block that needs what a test cannot have (a GPU, an MPI launcher, the
network, a long run, names a reader replaces) is preceded by the comment
`<!-- doc-test: skip REASON -->`; the skipped blocks are listed with their
reasons. Only the Python standard library is needed.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

SKIP = re.compile(r"^<!-- doc-test: skip (.+?) -->$")
FENCE = re.compile(r"^```(\S*)\s*$")


def blocks(path):
    """(line, language, text lines, skip reason or None) of each fenced
    block of `path`."""
    with open(path) as f:
        lines = f.read().split("\n")
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        previous = lines[index - 1] if index else ""
        skip = SKIP.match(previous)
        yield (index + 1, fence.group(1), lines[index + 1:end],
               skip.group(1) if skip else None)
        index = end + 1


def console_parts(lines):
    """The commands of a console block and the lines they should print."""
    commands, expected, continued = [], [], False
    for line in lines:
        if continued:
            commands[-1] += "\n" + line
        elif line.startswith("$ "):
            commands.append(line[2:])
        else:
            expected.append(line)
            continue
        continued = line.endswith("\\")
    return commands, expected


def normalized(line):
    return " ".join(line.split())


def missing_line(expected, output):
    """The first expected line that the output lacks in order, or None."""
    got = [normalized(line) for line in output.split("\n")]
    position = 0
    for line in expected:
        line = normalized(line)
        if not line or line == "...":
            continue
        pattern = re.compile(
            ".*".join(re.escape(part) for part in line.split("...")) + "$")
        while position < len(got) and not pattern.match(got[position]):
            position += 1
        if position == len(got):
            return line
        position += 1
    return None


def lay_out(workdir, source, build, models, python):
    """The scratch checkout: examples/ copied (commands write there), the
    rest linked."""
    root = os.path.join(workdir, "root")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(root)
    shutil.copytree(os.path.join(source, "examples"),
                    os.path.join(root, "examples"))
    for name in os.listdir(source):
        if name not in ("examples", "build", ".venv", ".git"):
            os.symlink(os.path.join(source, name), os.path.join(root, name))
    os.symlink(os.path.realpath(build), os.path.join(root, "build"))
    if python:
        os.symlink(os.path.dirname(os.path.dirname(python)),
                   os.path.join(root, ".venv"))
    os.makedirs(os.path.join(workdir, "shared"))
    os.symlink(models, os.path.join(workdir, "shared", "models"))
    # Commands on the shared models run from their folder.
    for model in glob.glob(os.path.join(models, "*.onnx")) + glob.glob(
            os.path.join(models, "*.npy")):
        os.symlink(model, os.path.join(root, os.path.basename(model)))
    return root


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True,
                        help="the build folder (its bin/ holds the tools)")
    parser.add_argument("--models", required=True)
    parser.add_argument("--python", default="",
                        help="the Python of the project's .venv")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    root = lay_out(args.workdir, args.source, args.build, args.models,
                   args.python)
    environment = dict(os.environ)
    environment["PATH"] = (os.path.join(os.path.realpath(args.build), "bin") +
                           os.pathsep +
                           environment.get("PATH", ""))
    documents = [os.path.join(args.source, "README.md")]
    documents += sorted(glob.glob(os.path.join(args.source, "docs", "*.md")))
    documents.append(os.path.join(args.source, "examples", "README.md"))
    passed = failed = skipped = 0
    for document in documents:
        name = os.path.relpath(document, args.source)
        for line, language, text, skip in blocks(document):
            if language not in ("sh", "console"):
                continue
            where = f"{name}:{line}"
            if skip:
                print(f"SKIP {where}: {skip}")
                skipped += 1
                continue
            if language == "console":
                commands, expected = console_parts(text)
            else:
                commands, expected = ["\n".join(text)], []
            script = "set -euo pipefail\n" + "\n".join(commands) + "\n"
            result = subprocess.run(["bash", "-c", script], cwd=root,
                                    env=environment, capture_output=True,
                                    text=True, timeout=600)
            output = result.stdout + result.stderr
            absent = missing_line(expected, output)
            if result.returncode != 0:
                print(f"FAIL {where}: exit {result.returncode}\n{output}")
                failed += 1
            elif absent is not None:
                print(f"FAIL {where}: the output lacks '{absent}'; it "
                      f"printed:\n{output}")
                failed += 1
            else:
                print(f"PASS {where}")
                passed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
