#!/usr/bin/python3
"""Checks, before the test suite runs, that every program the integration tests start comes
from a package that scripts/install-deps.sh names for tests (or from Debian's essential base
system), and that every package it names has each of its Recommends either named too or
listed below as not needed, with the reason. CI machines install with --no-install-recommends,
so a test that leans on a Recommends (swaks needs libnet-ssleay-perl for --tls) fails there and
nowhere else; this check fails here first.

Programs are found in the tests' source: the first element of the argument list given to
subprocess.run/Popen/check_output/check_call/call and pty.spawn (a string, or a module-level
name bound to a string or to shutil.which("...")), the commands of a shell=True string, and
every shutil.which("...").
"""
import ast
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TESTS = os.path.join(ROOT, "tests")

# Recommends of the test packages that no test uses, and why.
NOT_NEEDED = {
    "cmocka-doc": "documentation",
    "python3-pygments": "pytest's colouring of code in reports",
    "libio-socket-inet6-perl": "swaks over IPv6; tests use 127.0.0.1",
    "libnet-dns-perl": "swaks's own MX lookup; tests give --server",
    "ca-certificates": "public CAs; every test certificate is self-signed and not verified",
    "dns-root-data": "root hints; dnsmasq only serves the tests' own zones",
    "python3": "postfix's helper scripts; the tests' python3 is named for itself",
    "locales": "mutt's translations; tests run in the C.UTF-8 locale",
    "mailcap": "mutt viewers for attachments; tests read text parts",
    "sensible-utils": "mutt's default editor; tests script mutt without one",
    "libc6-dev | libc-dev": "named as libc6-dev, which gcc depends on through libgcc-12-dev",
    "default-dbus-system-bus | dbus-system-bus": "systemd's bus; tests run systemd-analyze offline only",
    "systemd-timesyncd | time-daemon": "clock sync; tests run systemd-analyze only",
    "python3-cryptography": "dnspython's DNSSEC checks; the DKIM tests look up plain TXT records",
    "python3-h2": "dnspython's DNS over HTTPS/2; tests query dnsmasq over UDP",
    "python3-httpx": "dnspython's DNS over HTTPS; tests query dnsmasq over UDP",
    "python3-idna": "dnspython's IDNA 2008 names; the test names are ASCII",
    "python3-requests": "dnspython's DNS over HTTPS; tests query dnsmasq over UDP",
    "python3-requests-toolbelt": "dnspython's DNS over HTTPS; tests query dnsmasq over UDP",
}

CALLS = {"run", "Popen", "check_output", "check_call", "call", "spawn"}


def test_packages():
    """The words of install-deps.sh's test list, with the build list it includes."""
    text = open(os.path.join(ROOT, "scripts", "install-deps.sh")).read()
    lists = dict(re.findall(r'^(\w+)="([^"]*)"', text, re.M))
    words = lists["test"].split()
    out = []
    for w in words:
        out.extend(lists[w[1:]].split() if w.startswith("$") else [w])
    return out


def string_value(node, names):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def which_argument(node):
    """"x" for shutil.which("x"), else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "which" and node.args
            and isinstance(node.args[0], ast.Constant)):
        return node.args[0].value
    return None


def programs_in(path):
    tree = ast.parse(open(path).read(), path)
    names = {}
    for stmt in tree.body:  # module-level NAME = "..." or NAME = shutil.which("...")
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            value = string_value(stmt.value, {}) or which_argument(stmt.value)
            if value is not None:
                names[stmt.targets[0].id] = value
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        prog = which_argument(node)
        if prog is not None:
            found.add(prog)
            continue
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in CALLS and node.args):
            continue
        first = node.args[0]
        shell = any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value
                    for k in node.keywords)
        if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
            prog = string_value(first.elts[0], names)
            if prog is not None:
                found.add(prog)
        elif shell and isinstance(first, (ast.Constant, ast.JoinedStr)):
            text = first.value if isinstance(first, ast.Constant) else "".join(
                v.value for v in first.values if isinstance(v, ast.Constant))
            for command in re.split(r"&&|\|\||;|\|", text):
                words = command.split()
                if words and re.fullmatch(r"[\w./-]+", words[0]):
                    found.add(words[0])
    return found


def package_of(program):
    """The package whose file the program is, or None when it is not installed."""
    path = program if os.path.isabs(program) else None
    if path is None:
        for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"]:
            if d and os.access(os.path.join(d, program), os.X_OK):
                path = os.path.join(d, program)
                break
    if path is None or not os.path.exists(path):
        return None
    # dpkg knows a file by the path its package ships; with merged /usr that may be /bin/x
    # for /usr/bin/x, and a link's target may be what is shipped.
    candidates = {path, os.path.realpath(path)}
    for p in list(candidates):
        if p.startswith("/usr/"):
            candidates.add(p[4:])
        else:
            candidates.add("/usr" + p)
    for p in sorted(candidates):
        r = subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True)
        # "package[, package]: path" lines; a diverted file (/bin/sh) also has
        # "diversion by dash from: /bin/sh" lines, which name no package of the file
        owners = [line.split(":")[0].split(",")[0].strip() for line in r.stdout.splitlines()
                  if not line.startswith("diversion by ")]
        if r.returncode == 0 and owners:
            return owners[0]
    return "(no package)"


def is_essential(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Essential} ${Priority}", package],
                       capture_output=True, text=True)
    return r.returncode == 0 and (r.stdout.startswith("yes") or r.stdout.endswith("required"))


def main():
    named = test_packages()
    problems = []
    programs = {}
    for d, _, files in os.walk(TESTS):
        for f in files:
            if f.endswith(".py"):
                for prog in programs_in(os.path.join(d, f)):
                    programs.setdefault(prog, os.path.relpath(os.path.join(d, f), ROOT))
    for prog, where in sorted(programs.items()):
        if os.path.basename(prog) in ("estafeta",) or "{" in prog:
            continue
        package = package_of(prog)
        if package is None:
            problems.append(f"{where} runs {prog}, which is not installed: name its package "
                            "in scripts/install-deps.sh (test)")
        elif package not in named and not is_essential(package):
            problems.append(f"{where} runs {prog}, from package {package}, which "
                            "scripts/install-deps.sh does not name: add it to the test list")
    for package in named:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Recommends}", package],
                           capture_output=True, text=True)
        for rec in filter(None, (x.strip() for x in r.stdout.split(","))):
            bare = re.sub(r"\s*\([^)]*\)", "", rec)
            if bare not in named and bare not in NOT_NEEDED:
                problems.append(f"{package} recommends {bare}, which --no-install-recommends "
                                "leaves out: name it in scripts/install-deps.sh (test) or, if no "
                                "test needs it, in NOT_NEEDED of scripts/check-test-deps.py")
    for p in problems:
        print("check-test-deps: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
