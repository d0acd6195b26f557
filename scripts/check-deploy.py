#!/usr/bin/env python3
"""Checks the deploy files where no Docker engine or cluster runs (here and in CI).

    scripts/check-deploy.py [GOLEM_BRIDGE_BINARY]

- every YAML and JSON file of docker-compose.yml and deploy/ parses, and docker-compose.yml is valid
  under the Compose specification's JSON Schema (scripts/schemas/compose-spec.json);
- every `--option` a bridge command uses (compose `command`, Kubernetes `args`, the systemd unit's
  ExecStart, the Dockerfile's CMD) and every GOLEM_BRIDGE_* name any deploy file uses exists in the
  binary's own `serve --help`, read now, so the check follows the options that exist, and is not one
  that help calls deprecated (`--metrics-address`, GOLEM_BRIDGE_METRICS_ADDRESS);
- the same for the docs: every `--option` of a `golem-bridge <command>` line in README.md and docs/*.md
  is one of that command's current options, and every GOLEM_BRIDGE_* name they mention exists in some
  command's help (the docs may name a deprecated variable to say it is deprecated);
- deploy/Dockerfile builds as CI does: CI's Swift major.minor, the build packages scripts/bootstrap
  installs, the `swift build` of scripts/test in release mode (every product, as CI builds them; no
  flag CI needs is missing), every folder Package.swift needs is copied, and the image ships each
  executable the bridge runs (golem-bridge and, beside it, golem-sandbox-warden, the warm sandboxes'
  PID 1);
- every compose service has a health check; every Kubernetes container has resource requests and
  limits and readiness and liveness probes, the bridge's on /healthz at the port its HTTP option
  names; a bridge replica count above 1;
- nothing in the repository (its files, not .build or .git) points at files outside it (/work/..., ../shared).
Prints each problem and exits 1, or prints "ok".
"""
import json
import pathlib
import re
import shlex
import subprocess
import sys

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
problems = []


def problem(text):
    problems.append(text)


def bridge_binary(argv):
    if argv:
        return argv[0]
    for build in ("debug", "release"):
        candidate = ROOT / ".build" / build / "golem-bridge"
        if candidate.exists():
            return str(candidate)
    sys.exit("golem-bridge is not built: run `swift build` or pass its path")


def deploy_files():
    files = [ROOT / "docker-compose.yml"]
    files += sorted(p for p in (ROOT / "deploy").rglob("*") if p.is_file() and "secrets" not in p.parts)
    return files


def parsed_documents(files):
    """Each YAML/JSON file's documents; a file that does not parse is a problem."""
    documents = {}
    for path in files:
        try:
            if path.suffix in (".yml", ".yaml"):
                documents[path] = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
            elif path.suffix == ".json":
                documents[path] = [json.loads(path.read_text())]
        except (yaml.YAMLError, json.JSONDecodeError) as error:
            problem(f"{path.relative_to(ROOT)} does not parse: {error}")
    return documents


def check_compose_schema(documents):
    schema = json.loads((ROOT / "scripts" / "schemas" / "compose-spec.json").read_text())
    # Its $schema names draft 2019-09 by a URL jsonschema does not know; it uses nothing past draft 7.
    validator = jsonschema.Draft7Validator(schema)
    for document in documents.get(ROOT / "docker-compose.yml", []):
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
            path = "/".join(str(part) for part in error.path)
            problem(f"docker-compose.yml: {path}: {error.message[:200]} (compose specification)")


def bridge_commands(documents):
    """(where, argument list) of every golem-bridge command in the compose file, manifests, unit and Dockerfile."""
    commands = []
    for path, docs in documents.items():
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            for name, service in (doc.get("services") or {}).items():
                build = service.get("build") or {}
                dockerfile = build.get("dockerfile", "") if isinstance(build, dict) else ""
                if dockerfile == "deploy/Dockerfile" or "golem-bridge" in str(service.get("image", "")):
                    commands.append((f"{path.name} service {name}", service.get("command") or []))
            spec = (((doc.get("spec") or {}).get("template") or {}).get("spec") or {})
            for container in spec.get("containers") or []:
                if str(container.get("image", "")).startswith("golem-bridge:"):
                    commands.append((f"{path.name} container {container['name']}",
                                     (container.get("command") or []) + (container.get("args") or [])))
    unit = (ROOT / "deploy" / "golem-bridge.service").read_text()
    for line in unit.splitlines():
        if line.startswith("ExecStart="):
            commands.append(("golem-bridge.service ExecStart", shlex.split(line.split("=", 1)[1])[1:]))
    for line in (ROOT / "deploy" / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            commands.append(("deploy/Dockerfile CMD", json.loads(line[4:])))
    return commands


ENVIRONMENT_NAME = r"GOLEM_BRIDGE_[A-Z0-9_]*[A-Z0-9]"
# Read by the tests and benchmarks (the binary they run), not by golem-bridge: no help names it.
TEST_ONLY_ENVIRONMENT = {"GOLEM_BRIDGE_BIN"}
# Where the repository's own tooling (not golem-bridge) reads its settings: the docs may name those.
TOOLING = ("scripts", "tests", "Tests", "bench", "Fuzz", ".ci")


def tooling_environment():
    """Every GOLEM_BRIDGE_* name the scripts, tests and benchmarks mention (test knobs such as
    GOLEM_BRIDGE_BROKER_PORT): documenting them is not a stale golem-bridge option. Not allowed in
    the deploy files, which configure golem-bridge itself."""
    names = set()
    for folder in TOOLING:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix not in (".png", ".gz") and ".build" not in path.parts:
                try:
                    names.update(re.findall(ENVIRONMENT_NAME, path.read_text()))
                except UnicodeDecodeError:
                    pass
    return names


class Help:
    """One command's `--help`: its options and variables, and which of them it calls deprecated."""

    def __init__(self, text):
        self.options, self.environment, self.deprecated = set(), set(), set()
        # One block per option: its `--name <value>` line and the description lines under it.
        for block in re.split(r"\n(?=  (?:-\w, )?--)", text):
            names = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", block.split("\n", 1)[0])
            variables = re.findall(ENVIRONMENT_NAME, block)
            self.options.update(names)
            self.environment.update(variables)
            if re.search(r"\bDeprecated\b", block) and names:
                self.deprecated.update(names[:1] + variables)
        self.environment.update(re.findall(ENVIRONMENT_NAME, text))


def command_help(binary, *command):
    return Help(subprocess.run([binary, *command, "--help"], capture_output=True, text=True, check=True).stdout)


def subcommands(binary):
    top = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    listed = top.split("SUBCOMMANDS:", 1)[-1]
    return re.findall(r"^  ([a-z][a-z-]*)  ", listed, re.M)


def check_options_and_environment(binary, documents, files):
    serve = command_help(binary, "serve")
    top = command_help(binary)
    options = serve.options
    environment = serve.environment | top.environment
    commands = bridge_commands(documents)
    if not commands:
        problem("no golem-bridge command found in the deploy files")
    for where, arguments in commands:
        if arguments[:1] != ["serve"]:
            problem(f"{where}: runs {arguments[:1]}, not serve")
        for argument in arguments:
            flag = argument.split("=", 1)[0]
            if flag.startswith("--") and flag not in options:
                problem(f"{where}: {flag} is not an option of `golem-bridge serve` (serve --help)")
            elif flag in serve.deprecated:
                problem(f"{where}: {flag} is deprecated (serve --help): use its new name")
    for path in files:
        for name in sorted(set(re.findall(ENVIRONMENT_NAME, path.read_text()))):
            if name not in environment:
                problem(f"{path.relative_to(ROOT)}: {name} is not a variable `golem-bridge serve --help` names")
            elif name in serve.deprecated:
                problem(f"{path.relative_to(ROOT)}: {name} is deprecated (serve --help): use its new name")
    return len(commands)


def doc_command_lines(text):
    """Each `golem-bridge <command> ...` line of the text's code (fenced blocks and `inline` spans),
    with backslash continuations joined."""
    lines, fenced, pending = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced, pending = not fenced, ""
            continue
        if fenced:
            pending += line.rstrip("\\") + " "
            if not line.endswith("\\"):
                lines.append(pending)
                pending = ""
        else:
            lines += re.findall(r"`([^`]*golem-bridge [^`]*)`", line)
    return [line for line in lines if re.search(r"golem-bridge [a-z]", line)]


def check_docs(binary):
    """README.md and docs/*.md name current options and existing variables (not docs/notes: dated records)."""
    helps = {name: command_help(binary, name) for name in subcommands(binary)}
    environment = (command_help(binary).environment.union(*(h.environment for h in helps.values()))
                   | TEST_ONLY_ENVIRONMENT | tooling_environment())
    for path in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")):
        where = path.relative_to(ROOT)
        text = path.read_text()
        for line in doc_command_lines(text):
            # Each command's arguments run to the next command (a line may show several).
            for command, arguments in re.findall(r"golem-bridge ([a-z][a-z-]*)((?:(?!golem-bridge )[^|;&<>])*)", line):
                help = helps.get(command)
                if help is None:
                    continue  # prose such as "golem-bridge is", or a path
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", arguments):
                    if flag not in help.options and flag != "--help":
                        problem(f"{where}: `golem-bridge {command} {flag}` is not an option of {command} ({command} --help)")
                    elif flag in help.deprecated:
                        problem(f"{where}: `golem-bridge {command} {flag}` is deprecated ({command} --help): use its new name")
        for name in sorted(set(re.findall(ENVIRONMENT_NAME, text))):
            if name not in environment:
                problem(f"{where}: {name} is not a variable any `golem-bridge` command's help names, nor one scripts/, tests/ or Tests/ read")


def http_port(arguments):
    """The port of the bridge's --http-address (or --metrics-address) argument, if any."""
    for index, argument in enumerate(arguments):
        flag, _, value = argument.partition("=")
        if flag in ("--http-address", "--metrics-address"):
            value = value or (arguments[index + 1] if index + 1 < len(arguments) else "")
            return int(value.rsplit(":", 1)[1]) if ":" in value else None
    return None


def check_health_and_limits(documents):
    for path, docs in documents.items():
        where = path.relative_to(ROOT)
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            for name, service in (doc.get("services") or {}).items():
                if not service.get("healthcheck"):
                    problem(f"{where}: service {name} has no healthcheck")
            if doc.get("kind") not in ("Deployment", "StatefulSet"):
                continue
            spec = doc["spec"]["template"]["spec"]
            for container in spec["containers"]:
                label = f"{where}: {doc['kind']} {doc['metadata']['name']} container {container['name']}"
                resources = container.get("resources") or {}
                if not (resources.get("requests") and resources.get("limits")):
                    problem(f"{label} has no resource requests and limits")
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in container:
                        problem(f"{label} has no {probe}")
                if not str(container.get("image", "")).startswith("golem-bridge:"):
                    continue
                if doc["kind"] == "Deployment" and doc["spec"].get("replicas", 1) < 2:
                    problem(f"{label}: the bridge Deployment runs fewer than 2 replicas")
                port = http_port((container.get("command") or []) + (container.get("args") or []))
                ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
                for probe in ("readinessProbe", "livenessProbe"):
                    get = (container.get(probe) or {}).get("httpGet") or {}
                    probed = ports.get(get.get("port"), get.get("port"))
                    if get.get("path") != "/healthz" or probed != port:
                        problem(f"{label}: {probe} asks {get.get('path')} on port {probed}, not /healthz on the HTTP port {port}")


def check_dockerfile():
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.split(r"^(?=FROM )", text, flags=re.M)
    build_stage = next((stage for stage in stages if re.match(r"FROM \S+ AS build\b", stage)), "")
    image = re.search(r"^FROM swift:(\d+)\.(\d+)", build_stage, re.M)
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True)
    version = swift.stdout + swift.stderr
    ours = re.search(r"Swift version (\d+)\.(\d+)", version)
    if not image:
        problem("deploy/Dockerfile: the build stage is not FROM swift:X.Y-...")
    elif ours and image.groups() != ours.groups():
        problem(f"deploy/Dockerfile builds with Swift {'.'.join(image.groups())}, CI with {'.'.join(ours.groups())}")

    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    listed = re.search(r"for pkg in ([^;]+); do", bootstrap)
    build_packages = {p for p in listed.group(1).split() if p.endswith("-dev")} if listed else set()
    if not build_packages:
        problem("scripts/bootstrap: no build packages (-dev) found in its `for pkg in ...` list")
    installed = set(re.findall(r"[a-z0-9.+-]+-dev\b", build_stage))
    for missing in sorted(build_packages - installed):
        problem(f"deploy/Dockerfile: the build stage does not install {missing}, which scripts/bootstrap installs for CI")

    # No --product: CI builds every product, and the image needs two of them (check_shipped).
    release_only = {"-c", "release", "--static-swift-stdlib"}
    docker_builds = [shlex.split(m) for m in re.findall(r"swift build([^\n&;]*)", build_stage)]
    if len(docker_builds) != 1:
        problem(f"deploy/Dockerfile: expected one `swift build`, found {len(docker_builds)}")
    for flags in docker_builds:
        extra = [f for f in flags if f not in release_only]
        if extra:
            problem(f"deploy/Dockerfile: `swift build` has flags CI never uses: {extra}")
    ci_builds = [shlex.split(m) for m in re.findall(r"swift build([^\n&;)|]*)", (ROOT / "scripts" / "test").read_text())]
    for flags in ci_builds:
        needed = [f for f in flags if f not in {"--build-tests", "--show-bin-path"} | release_only]
        if needed:
            problem(f"scripts/test builds with {needed}, which deploy/Dockerfile's `swift build` lacks")
    manifest = (ROOT / "Package.swift").read_text()
    if '.executable(name: "golem-bridge"' not in manifest:
        problem("Package.swift has no golem-bridge executable product")
    copied = {m.split()[0] for m in re.findall(r"^COPY (?!--from)(.+)$", build_stage, re.M)}
    for needed in ("Package.swift", "Sources", "Tests"):
        if needed not in copied:
            problem(f"deploy/Dockerfile: the build stage does not COPY {needed}, which Package.swift needs")


def check_shipped():
    """The runtime stage copies every executable the bridge runs from the build, into one folder:
    golem-bridge looks for golem-sandbox-warden beside itself."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    manifest = (ROOT / "Package.swift").read_text()
    executables = re.findall(r'\.executable\(name: "(golem-[a-z-]+)"', manifest)
    if "golem-sandbox-warden" not in executables:
        problem("Package.swift has no golem-sandbox-warden executable product")
    runtime = re.split(r"^(?=FROM )", text, flags=re.M)[-1]
    shipped = {}
    for copy in re.findall(r"^COPY --from=build (.+)$", runtime, re.M):
        *sources, destination = copy.split()
        for source in sources:
            name = source.rstrip("/").rsplit("/", 1)[-1]
            if "/.build/release/" not in source:
                problem(f"deploy/Dockerfile: {source} is not from the release build")
            shipped[name] = destination if destination.endswith("/") else destination.rsplit("/", 1)[0] + "/"
    for executable in executables:
        if executable not in shipped:
            problem(f"deploy/Dockerfile: the image does not ship {executable} (COPY --from=build .../.build/release/{executable})")
    if len({shipped.get(e) for e in executables}) > 1:
        problem(f"deploy/Dockerfile: {', '.join(executables)} are not copied into one folder: {shipped}")


def check_self_contained():
    pattern = re.compile(r"(?<![\w/])/work/|\.\./shared\b")
    skipped = {".git", ".swiftpm", "__pycache__", "test-output", "secrets"}
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        name = str(relative)
        if (not path.is_file() or any(part in skipped or part.startswith(".build") for part in relative.parts)
                or path.suffix in (".png", ".sqlite", ".pyc") or name == "scripts/check-deploy.py"):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line.replace("/golem/work/", "")):
                problem(f"{name}:{number} points outside the repository: {line.strip()[:120]}")


def main(argv):
    binary = bridge_binary(argv)
    files = deploy_files()
    documents = parsed_documents(files)
    count = check_options_and_environment(binary, documents, files)
    check_health_and_limits(documents)
    check_compose_schema(documents)
    check_docs(binary)
    check_dockerfile()
    check_shipped()
    check_self_contained()
    for text in problems:
        print(text)
    if problems:
        return 1
    print(f"ok: {len(files)} deploy files, {count} bridge commands")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
