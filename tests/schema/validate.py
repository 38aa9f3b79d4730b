#!/usr/bin/env python3
"""Check every `--json` document against the schemas in docs/schema/ (JSON Schema draft-07).

Usage: validate.py CORESIFT SOURCE_DIR

Validates
  (a) every golden JSON output, SOURCE_DIR/tests/golden/expected/<core>.<command>[-args].json
      (text: "exit N", "--- stdout", the document, "--- stderr", stderr), and
  (b) the documents CORESIFT prints now for every command on every committed core
      (corpus/cores/*.core.zst and corpus/cores/SUITE/*.core.zst, with --module-dir the bin/
      next to the core): `CORESIFT COMMAND --json --no-debuginfo --module-dir DIR CORE`, plus the
      variants `chunks --state all`, `groups --by size|owner` and `leaks --summary`, and `show`
      at the first mapping's start (from `maps`) and at the crashed (else first) thread's rip
      (from `info`).

Prints one line per failure (document, JSON path, message) and a summary line
"N documents validated against M schemas, K failures". Exit 0 when everything validates, 1 on
any failure, 77 (SKIPPED) without the python3 jsonschema module. Nothing is written anywhere:
the commands run in a temporary directory.

The schemas are meant for jsonschema >= 4.10 (Debian 12's python3-jsonschema): references to
common.schema.json are resolved from a local store (the `referencing` registry on jsonschema >=
4.18, RefResolver before), never fetched."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor

sys.dont_write_bytecode = True
SKIP = 77
COMMANDS = ["info", "maps", "threads", "show", "heap", "chunks", "groups", "leaks", "owners", "triage", "diff", "report"]
# Commands run on every core (show is run afterwards, at addresses taken from maps and info).
RUNS = [["info"], ["maps"], ["threads"], ["heap"], ["chunks"], ["chunks", "--state", "all"], ["groups"],
        ["groups", "--by", "size"], ["groups", "--by", "owner"], ["leaks"], ["leaks", "--summary"], ["owners"]]
MAX_LINES_PER_DOCUMENT = 10
TIMEOUT = 120

try:
    import jsonschema
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import best_match
except ImportError as e:  # checked in main()
    jsonschema = None
    IMPORT_ERROR = str(e)

_validators = {}  # per worker process: command -> validator


def load_schemas(schema_dir):
    """command or file name -> schema (with "$id" set to its file URI, so relative refs resolve
    against the directory just as a tool reading the files would)."""
    out, errors = {}, []
    for path in sorted(glob.glob(os.path.join(schema_dir, "*.schema.json"))):
        name = os.path.basename(path)[: -len(".schema.json")]
        try:
            with open(path) as f:
                schema = json.load(f)
        except (OSError, ValueError) as e:
            errors.append("schema %s.schema.json: $: %s" % (name, short(e)))
            continue
        schema.setdefault("$id", "file://" + os.path.abspath(path))
        out[name] = schema
    return out, errors


def make_validator(schema, schemas):
    try:
        from referencing import Registry
        from referencing.jsonschema import DRAFT7
    except ImportError:  # jsonschema < 4.18: RefResolver with a local store
        store = {s["$id"]: s for s in schemas.values()}
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        return Draft7Validator(schema, resolver=resolver)
    registry = Registry().with_resources((s["$id"], DRAFT7.create_resource(s)) for s in schemas.values())
    return Draft7Validator(schema, registry=registry)


def init_worker(schema_dir):
    warnings.simplefilter("ignore", DeprecationWarning)
    schemas, _ = load_schemas(schema_dir)
    for cmd in COMMANDS:
        if cmd in schemas:
            _validators[cmd] = make_validator(schemas[cmd], schemas)


def json_path(path):
    out = "$"
    for p in path:
        out += "[%d]" % p if isinstance(p, int) else ("." + p if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) else "[%s]" % json.dumps(p))
    return out


def short(text, n=240):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def check(label, command, doc):
    """Failure lines for one document."""
    v = _validators.get(command)
    if v is None:
        return ["%s: $: no schema for command %r" % (label, command)]
    lines = []
    try:
        errors = sorted(v.iter_errors(doc), key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in e.absolute_path])
    except Exception as e:  # a schema the validator cannot apply
        return ["%s: $: validator error: %s: %s" % (label, type(e).__name__, short(e))]
    for e in errors:
        if e.context:  # anyOf/oneOf: the branch that got furthest says more
            e = best_match(e.context)
        lines.append("%s: %s: %s" % (label, json_path(e.absolute_path), short(e.message)))
    return lines


def check_golden(path):
    name = os.path.basename(path)
    label = "golden " + name
    # <core>.<command>[-args].json; the core may itself hold dots (bullseye.census)
    core_and_rest = name[: -len(".json")].rsplit(".", 1)
    command = core_and_rest[1].split("-", 1)[0] if len(core_and_rest) == 2 else ""
    try:
        with open(path, encoding="utf-8") as f:  # the documents are always valid UTF-8
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return label, ["%s: $: %s" % (label, short(e))], None
    m = re.match(r"exit (-?\d+)\n--- stdout\n(.*?)^--- stderr\n", text, re.S | re.M)
    if not m:
        return label, ["%s: $: not a golden output (exit N / --- stdout / --- stderr)" % label], None
    try:
        doc = json.loads(m.group(2))
    except ValueError as e:
        return label, ["%s: $: stdout is not JSON (exit %s): %s" % (label, m.group(1), short(e))], None
    return label, check(label, command, doc), None


def run_one(coresift, workdir, core, moddir, args, label):
    argv = [coresift, args[0], "--json", "--no-debuginfo"] + args[1:] + (["--module-dir", moddir] if moddir else []) + [core]
    if args[0] == "show":  # show ADDR: the address is the last positional
        argv = [coresift, "show", "--json", "--no-debuginfo"] + (["--module-dir", moddir] if moddir else []) + [core, args[1]]
    try:
        p = subprocess.run(argv, capture_output=True, cwd=workdir, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return label, ["%s: $: cannot run: %s" % (label, short(e))], None
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return label, ["%s: $: exit %d: %s" % (label, p.returncode, short(err[-1] if err else "no stderr"))], None
    try:
        doc = json.loads(p.stdout.decode("utf-8"))  # UnicodeDecodeError is a ValueError
    except ValueError as e:
        return label, ["%s: $: stdout is not UTF-8 JSON: %s" % (label, short(e))], None
    extra = None
    if args == ["maps"] and isinstance(doc, dict) and doc.get("mappings") and isinstance(doc["mappings"][0], dict):
        extra = ("first_mapping", doc["mappings"][0].get("start"))
    if args == ["info"] and isinstance(doc, dict) and doc.get("threads"):
        threads = doc["threads"]
        t = next((t for t in threads if isinstance(t, dict) and t.get("crashed")), threads[0])
        extra = ("rip", (t.get("registers") or {}).get("rip") if isinstance(t, dict) else None)
    return label, check(label, args[0], doc), extra


def cores_of(src):
    root = os.path.join(src, "corpus", "cores")
    out = []
    for core in sorted(glob.glob(os.path.join(root, "*.core.zst")) + glob.glob(os.path.join(root, "*", "*.core.zst"))):
        bindir = os.path.join(os.path.dirname(core), "bin")
        out.append((core, bindir if os.path.isdir(bindir) else None, os.path.relpath(core, root)))
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if jsonschema is None:
        print("SKIPPED: the python3 module jsonschema is not available (%s)" % IMPORT_ERROR)
        return SKIP
    coresift, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    schema_dir = os.path.join(src, "docs", "schema")
    if not os.access(coresift, os.X_OK):
        print("%s: not an executable" % coresift, file=sys.stderr)
        return 1
    # The schemas themselves: valid draft-07, one per command.
    schemas, schema_failures = load_schemas(schema_dir)
    for name, schema in sorted(schemas.items()):
        try:
            Draft7Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            schema_failures.append("schema %s.schema.json: %s: %s" % (name, json_path(e.absolute_path), short(e.message)))
    schema_failures += ["schema %s.schema.json: $: missing" % cmd for cmd in COMMANDS
                        if cmd not in schemas and not any(f.startswith("schema %s.schema.json:" % cmd) for f in schema_failures)]
    n_schemas = len([c for c in COMMANDS if c in schemas])
    if schema_failures:  # documents checked against a broken schema would prove nothing
        for line in schema_failures:
            print("FAIL " + line)
        print("0 documents validated against %d schemas, %d failures" % (n_schemas, len(schema_failures)))
        return 1
    goldens = sorted(p for p in glob.glob(os.path.join(src, "tests", "golden", "expected", "*.json"))
                     if os.path.basename(p) != "ENV.json")
    cores = cores_of(src)
    results = {}  # document label -> failure lines
    with tempfile.TemporaryDirectory(prefix="coresift-schema-") as workdir, \
            ProcessPoolExecutor(max_workers=2, initializer=init_worker, initargs=(schema_dir,)) as pool:
        runs = [(pool.submit(run_one, coresift, workdir, core, moddir, args, "%s %s" % (" ".join(args), rel)), core, moddir, rel)
                for core, moddir, rel in cores for args in RUNS]
        goldens = [pool.submit(check_golden, p) for p in goldens]
        shows = []
        for f, core, moddir, rel in runs:
            label, lines, extra = f.result()
            results[label] = lines
            if extra and isinstance(extra[1], str):  # an address for show
                shows.append(pool.submit(run_one, coresift, workdir, core, moddir, ["show", extra[1]],
                                         "show %s (%s) %s" % (extra[1], extra[0], rel)))
        for f in goldens + shows:
            label, lines, _ = f.result()
            results[label] = lines
    printed = list(schema_failures)
    for label in sorted(results):
        lines = results[label]
        printed += lines[:MAX_LINES_PER_DOCUMENT]
        if len(lines) > MAX_LINES_PER_DOCUMENT:
            printed.append("%s: ... and %d more failures in this document" % (label, len(lines) - MAX_LINES_PER_DOCUMENT))
    n_failures = len(schema_failures) + sum(len(lines) for lines in results.values())
    for line in printed:
        print("FAIL " + line)
    print("%d documents validated against %d schemas, %d failures" % (len(results), n_schemas, n_failures))
    return 1 if n_failures else 0

if __name__ == "__main__":
    sys.exit(main())
