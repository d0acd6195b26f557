#!/usr/bin/env python3
"""Where a process's resident memory is: VmRSS split by mapped file (anonymous memory as [anon],
heap, stacks), from /proc/<pid>/smaps. Prints the largest 25 lines.

    python3 bench/rss_by_mapping.py PID
    python3 bench/rss_by_mapping.py --serve BINARY [--starts N]
    python3 bench/rss_by_mapping.py --sections PID [LIBRARY]

--sections splits the executable's own resident pages (present in /proc/PID/pagemap) by ELF section,
and the code's by Swift module (the module of the symbol each resident page starts in; C and C++
symbols by name prefix): which part of the binary an idle process keeps resident.

With --serve it starts `BINARY serve` N times (default 3) exactly as the memory stage of bench/run
does for its idle figure (bench.py's Bridge: --concurrency nproc, ready when its submit queue has a
consumer, sampled 2 s later), and prints each start's VmRSS and split. Needs the broker of bench/run.
"""
import bisect
import collections
import os
import re
import struct
import subprocess
import sys
import time
import uuid


def by_mapping(pid):
    rss = collections.Counter()
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                name = parts[5] if len(parts) > 5 else "[anon]"
            elif line.startswith("Rss:"):
                rss[name] += int(line.split()[1])
    return rss


def show(rss, lines=25):
    print(f"{sum(rss.values()):8d} KiB  total")
    for name, kib in rss.most_common(lines):
        print(f"{kib:8d} KiB  {name}")


def module_of(symbol):
    """The Swift module a mangled symbol belongs to, or a coarse name for C and C++ symbols."""
    match = re.match(r"_?\$s(\d+)", symbol)
    if match:
        start = match.end()
        return symbol[start:start + int(match.group(1))]
    if re.match(r"(swift_)?u[a-z0-9]+_[a-zA-Z]|_ZN6icu_|_ZNK6icu_|icudt", symbol):
        return "ICU"
    if symbol.startswith(("$sS", "_swift_", "swift_", "$sB", "_ZN5swift", "_ZNK5swift")):
        return "Swift runtime"
    if symbol.startswith(("CF", "_CF", "__CF")):
        return "CoreFoundation"
    if symbol.startswith(("dispatch_", "_dispatch", "_os_")):
        return "libdispatch"
    if "BoringSSL" in symbol[:24]:
        return "BoringSSL"
    if symbol.startswith("_ZN") or symbol.startswith("_ZT"):
        return "C++"
    return "C"


def sections(pid, library=None):
    exe = os.readlink(f"/proc/{pid}/exe")
    if library:  # a loaded library instead: the first mapped file whose path contains the name
        with open(f"/proc/{pid}/maps") as maps:
            exe = next(p[5] for p in map(str.split, maps) if len(p) > 5 and library in p[5])
    table = []  # (file offset, size, vaddr, name) of each allocated section with bytes in the file
    for line in subprocess.run(["readelf", "-S", "-W", exe], capture_output=True, text=True).stdout.splitlines():
        match = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if match and match.group(2) != "NOBITS" and int(match.group(3), 16):
            table.append((int(match.group(4), 16), int(match.group(5), 16), int(match.group(3), 16), match.group(1)))
    table.sort()
    symbols = []
    for line in subprocess.run(["nm", "-n", "--defined-only", *(["-D"] if library else []), exe], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwWrRdD":
            symbols.append((int(parts[0], 16), parts[2]))
    addresses = [a for a, _ in symbols]
    by_section, by_module = collections.Counter(), collections.Counter()
    page = os.sysconf("SC_PAGE_SIZE")
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            parts = line.split()
            if len(parts) < 6 or parts[5] != exe:
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            offset = int(parts[2], 16)
            pagemap.seek(start // page * 8)
            entries = pagemap.read((end - start) // page * 8)
            for i in range((end - start) // page):
                if not struct.unpack_from("<Q", entries, i * 8)[0] >> 63:
                    continue
                at = offset + i * page
                name, vaddr = "(headers, padding)", None
                for sec_off, size, sec_addr, sec_name in table:
                    if sec_off <= at < sec_off + size or (sec_off < at + page and at < sec_off):
                        name, vaddr = sec_name, sec_addr + max(at - sec_off, 0)
                        break
                by_section[name] += page // 1024
                if name == ".text" and vaddr is not None:
                    j = bisect.bisect_right(addresses, vaddr) - 1
                    by_module[module_of(symbols[j][1]) if j >= 0 else "?"] += page // 1024
    print(f"{exe}: resident KiB by section")
    for name, kib in by_section.most_common(20):
        print(f"{kib:8d} KiB  {name}")
    print(".text resident KiB by module (the symbol each page starts in)")
    for name, kib in by_module.most_common(40):
        print(f"{kib:8d} KiB  {name}")


def serve(binary, starts):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench  # the memory stage's own Bridge and sampling, so the figure is the same one

    figures = []
    for _ in range(starts):
        prefix = f"{bench.STEM}{uuid.uuid4().hex[:6]}"
        bridge = bench.Bridge(binary, prefix, os.cpu_count())
        try:
            time.sleep(2)
            figures.append(bench.rss_kib(bridge.proc.pid))
            print(f"start {len(figures)}: VmRSS {figures[-1]} KiB")
            show(by_mapping(bridge.proc.pid), 12)
        finally:
            bridge.stop()
            bench.delete_prefix(prefix)
    print("idle VmRSS KiB:", " / ".join(str(kib) for kib in figures))


def main():
    if sys.argv[1] == "--sections":
        sections(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif sys.argv[1] == "--serve":
        starts = int(sys.argv[sys.argv.index("--starts") + 1]) if "--starts" in sys.argv else 3
        serve(os.path.abspath(sys.argv[2]), starts)
    else:
        show(by_mapping(sys.argv[1]))


if __name__ == "__main__":
    main()
