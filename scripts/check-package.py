#!/usr/bin/env python3
"""Checks that Package.swift tells the truth, and that the README's architecture matches it.

  scripts/check-package.py            (run from anywhere; uses `swift package dump-package`)

1. Every module a target imports is declared by that target (a module that only arrives through
   another package's dependency builds today and breaks when that package changes).
2. Every dependency a test target declares is imported by it.
3. The README's "Architecture" section lists each of our targets with exactly its first-party
   dependencies (the block between `<!-- modules -->` and `<!-- /modules -->`, one line a module:
   `Name  deps: A, B` or `Name  deps: —`).
Exit 1 with one line per finding.
"""
import json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Modules that come with the toolchain and need no declaration.
SYSTEM = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Dispatch",
          "Synchronization", "XCTest", "Testing", "_Concurrency", "os", "CoreFoundation", "Darwin"}
IMPORT = re.compile(r"^[ \t]*(?:@\w+(?:\([^)\n]*\))?[ \t]+)*(?:(?:public|package|internal|private|fileprivate)[ \t]+)?import[ \t]+(?:(?:struct|enum|class|func|protocol|typealias|var|let)[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)


def dump():
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/opt/swift/usr/bin")
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def dependency_names(target):
    names = []
    for dep in target["dependencies"]:
        if "byName" in dep:
            names.append(dep["byName"][0])
        elif "target" in dep:
            names.append(dep["target"][0])
        elif "product" in dep:
            names.append(dep["product"][0])
    return names


def imports(path):
    found = set()
    for folder, _, files in os.walk(path):
        for name in files:
            if name.endswith(".swift"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    text = f.read()
                # Only imports outside `#if canImport(...)` blocks would be exact; none of ours use them.
                found.update(IMPORT.findall(text))
    return found


def target_path(target):
    if target.get("path"):
        return os.path.join(ROOT, target["path"])
    base = "Tests" if target["type"] == "test" else "Sources"
    return os.path.join(ROOT, base, target["name"])


def readme_modules():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"<!-- modules -->(.*?)<!-- /modules -->", text, re.S)
    if not block:
        return None
    modules = {}
    for line in block.group(1).splitlines():
        m = re.match(r"\s*([A-Za-z][\w-]*)\s.*?deps:\s*(.*?)\s*$", line)
        if m:
            deps = [d.strip() for d in m.group(2).split(",") if d.strip() and d.strip() != "—"]
            modules[m.group(1)] = sorted(deps)
    return modules


def main():
    package = dump()
    targets = {t["name"]: t for t in package["targets"]}
    findings = []
    for name, target in targets.items():
        if target["type"] in ("system", "binary", "plugin"):
            continue
        declared = set(dependency_names(target))
        used = imports(target_path(target))
        for module in sorted(used - declared - SYSTEM - {name}):
            findings.append(f"{name} imports {module} but Package.swift does not declare it")
        if target["type"] == "test":
            for module in sorted(declared - used):
                findings.append(f"{name} (test) declares {module} but never imports it")

    documented = readme_modules()
    if documented is None:
        findings.append("README.md has no <!-- modules --> block in its Architecture section")
    else:
        ours = {n: t for n, t in targets.items() if t["type"] not in ("test",) and not n.endswith("TestSupport")}
        for name, target in sorted(ours.items()):
            first_party = sorted(d for d in dependency_names(target) if d in targets)
            if name not in documented:
                findings.append(f"README Architecture does not list the module {name}")
            elif documented[name] != first_party:
                findings.append(f"README Architecture says {name} depends on {documented[name]}, Package.swift says {first_party}")
        for name in sorted(set(documented) - set(ours)):
            findings.append(f"README Architecture lists {name}, which Package.swift does not have")

    for line in findings:
        print(f"check-package: {line}")
    if findings:
        return 1
    print(f"check-package: ok ({len(targets)} targets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
