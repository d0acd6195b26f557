#!/usr/bin/env python3
"""Check docs/asyncapi.yaml against itself and the JSON Schemas next to it.

    scripts/check-asyncapi.py docs/asyncapi.yaml [REASON_CODE...]

Every $ref must resolve (in the file, or to a schema file under docs/); every message example
payload must validate against its message's schema; when reason codes are given, the dead-letter
header x-golem-error-code must list exactly them. Prints "ok" and exits 0, or prints each problem
and exits 1 (3 when PyYAML or jsonschema is missing).
"""
import json
import pathlib
import sys

try:
    import yaml
    import jsonschema
    from referencing import Registry, Resource
except ImportError as error:  # pragma: no cover
    print(f"python3 modules PyYAML and jsonschema (4.18 or later) are required: {error}", file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
validate_json = __import__("validate-json")


def pointer(document, fragment):
    node = document
    for part in fragment.lstrip("/").split("/") if fragment.strip("/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def main(argv):
    path = pathlib.Path(argv[0])
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []

    def walk(node, where):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target, _, fragment = ref.partition("#")
                try:
                    if target:
                        pointer(json.loads((path.parent / target).read_text(encoding="utf-8")), fragment)
                    else:
                        pointer(document, fragment)
                except (OSError, KeyError, IndexError, ValueError) as error:
                    problems.append(f"{where}: $ref {ref} does not resolve ({error!r})")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(document, "")

    schemas = path.parent / "schemas"
    registry = Registry()
    for schema_path in sorted(schemas.glob("*.schema.json")):
        contents = json.loads(schema_path.read_text(encoding="utf-8"))
        registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
    for name, message in document.get("components", {}).get("messages", {}).items():
        schema_ref = (message.get("payload") or {}).get("schema", {}).get("$ref")
        if not schema_ref:
            continue
        schema = json.loads((path.parent / schema_ref).read_text(encoding="utf-8"))
        validator = validate_json.Validator(schema, registry=registry)
        for example in message.get("examples", []):
            for error in validator.iter_errors(example.get("payload")):
                problems.append(f"message {name} example {example.get('name')}: {error.message[:200]}")

    if len(argv) > 1:
        header = document["components"]["messages"]["deadLetter"]["headers"]["properties"]["x-golem-error-code"]
        if sorted(header["enum"]) != sorted(argv[1:]):
            problems.append(f"x-golem-error-code lists {sorted(header['enum'])}, the codec has {sorted(argv[1:])}")

    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
