"""Run a command and write its peak RSS (``os.wait4``'s ``ru_maxrss``, KiB) to a file; exit with its status.

    python -I -S _rss_launcher.py RSS_FILE COMMAND [ARG...]

Why a launcher: a child keeps as its RSS high-water mark the memory of the process it was forked from (the
kernel records the old address space's peak at exec), so a tool forked straight from the benchmark driver, which
holds the farm's proxies, would report at least the driver's own RSS. Forked from this small process instead,
it reports at least this process's (about 8 MiB); GNU time (about 1 MiB) is used instead when it is installed.
"""

import os
import sys


def main() -> int:
    rss_file, *command = sys.argv[1:]
    pid = os.posix_spawnp(command[0], command, os.environ)
    _pid, status, usage = os.wait4(pid, 0)
    with open(rss_file, "w") as out:
        out.write(f"{usage.ru_maxrss}\n")
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main())
