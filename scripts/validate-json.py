#!/usr/bin/env python3
"""Validate JSON files against one of the contract's JSON Schemas (docs/schemas, draft 2020-12).

    scripts/validate-json.py SCHEMA FILE...

SCHEMA is a path to a *.schema.json; every *.schema.json next to it is registered, so their
cross-references resolve. Prints one line per file, "valid <file>" or "invalid <file>: <why>",
and exits 0 when it could judge every file (2 on usage errors, 3 when jsonschema is missing).

Strict like the bridge: the file must be UTF-8 JSON without duplicate member names, NaN/Infinity
or lone surrogates. Patterns follow ECMA-262 (as JSON Schema says): a trailing `$` matches only at
the very end, not before a final newline as Python's `re` would.
"""
import json
import pathlib
import re
import sys

try:
    import jsonschema
    from jsonschema import validators
    from referencing import Registry, Resource
except ImportError as error:  # pragma: no cover
    print(f"python3 module jsonschema (4.18 or later) is required: {error}", file=sys.stderr)
    sys.exit(3)


def ecma_pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    match = re.search(pattern, instance)
    if match is None or (pattern.endswith("$") and match.end() != len(instance)):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(jsonschema.Draft202012Validator, {"pattern": ecma_pattern})


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate member name")
    return dict(pairs)


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def check_surrogates(value):
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ValueError("lone surrogate")
    elif isinstance(value, list):
        for v in value:
            check_surrogates(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_surrogates(k)
            check_surrogates(v)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path = pathlib.Path(argv[0])
    registry = Registry()
    for path in sorted(schema_path.parent.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Validator.check_schema(schema)
    validator = Validator(schema, registry=registry)
    for name in argv[1:]:
        try:
            text = pathlib.Path(name).read_bytes().decode("utf-8")
            instance = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=reject_constant)
            check_surrogates(instance)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            print(f"invalid {name}: not JSON: {error}")
            continue
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(root)"
            print(f"invalid {name}: {where}: {first.message[:300]}")
        else:
            print(f"valid {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
