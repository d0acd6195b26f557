#!/usr/bin/env python3
"""Where a process's resident memory is: VmRSS split by mapped file (anonymous memory as [anon],
heap, stacks), from /proc/<pid>/smaps. Prints the largest 25 lines.

    python3 bench/rss_by_mapping.py PID
"""
import collections
import re
import sys


def main():
    pid = sys.argv[1]
    rss = collections.Counter()
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                name = parts[5] if len(parts) > 5 else "[anon]"
            elif line.startswith("Rss:"):
                rss[name] += int(line.split()[1])
    print(f"{sum(rss.values()):8d} KiB  total")
    for name, kib in rss.most_common(25):
        print(f"{kib:8d} KiB  {name}")


if __name__ == "__main__":
    main()
