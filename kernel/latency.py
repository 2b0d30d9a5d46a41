"""Times the "Rust (geoxr)" kernel as a user meets it, with Jupyter's own client.

Starts the kernel (until it answers kernel_info, as nbclient and JupyterLab wait),
runs trivial cells one after the other, then shuts it down, and prints one JSON
line: {"start": s, "start_cpu": [evcxr_s, builds_s], "cells": [[code, s, stderr,
text], ...], "shutdown": s}, where text is the cell's text/plain result and
start_cpu the CPU seconds the start took in the evcxr_jupyter process itself (its
rust-analyzer) and in the cargo/rustc/linker runs it waited for; on a shared
machine these follow the work done, where wall seconds follow the load. Run by
`cargo xtask tutorial` after the notebooks, so the kernel's build folder is warm.

usage: python latency.py KERNEL_NAME STARTUP_TIMEOUT_S CELL [CELL ...]
"""

import json
import os
import sys
import time

from jupyter_client.manager import KernelManager


def cpu_seconds(pid):
    """(own, waited-for children) CPU seconds of process pid, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / tick
    children = (int(fields[13]) + int(fields[14])) / tick
    return own, children


def evcxr_pid(root):
    """The evcxr_jupyter process at or below pid root, or None."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    name, rest = f.read().split(" (", 1)[1].rsplit(")", 1)
                parents[int(entry)] = (int(rest.split()[1]), name)
            except (OSError, IndexError, ValueError):
                continue
    for pid, (_, name) in parents.items():
        ancestor = pid
        for _ in range(16):
            if ancestor == root:
                if name.startswith("evcxr_jupyter"):
                    return pid
                break
            ancestor = parents.get(ancestor, (0, ""))[0]
    return None


def main():
    name, timeout, cells = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    manager = KernelManager(kernel_name=name)
    clock = time.monotonic()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        start = time.monotonic() - clock
        start_cpu = None
        process = getattr(manager.provisioner, "process", None)
        evcxr = evcxr_pid(process.pid) if process is not None else None
        if evcxr is not None:
            try:
                start_cpu = list(cpu_seconds(evcxr))
            except OSError:
                start_cpu = None
        timed = []
        for code in cells:
            stderr, text = [], []

            def hook(message, stderr=stderr, text=text):
                content, kind = message["content"], message["msg_type"]
                if kind == "stream" and content.get("name") == "stderr":
                    stderr.append(content["text"])
                elif kind == "error":
                    stderr.append(content.get("evalue", "error"))
                elif kind in ("execute_result", "display_data"):
                    text.append(content["data"].get("text/plain", ""))

            clock = time.monotonic()
            client.execute_interactive(code, timeout=timeout, output_hook=hook)
            timed.append(
                [code, time.monotonic() - clock, "".join(stderr), "".join(text)]
            )
    finally:
        client.stop_channels()
        clock = time.monotonic()
        manager.shutdown_kernel()
        shutdown = time.monotonic() - clock
    print(
        json.dumps(
            {
                "start": start,
                "start_cpu": start_cpu,
                "cells": timed,
                "shutdown": shutdown,
            }
        )
    )


if __name__ == "__main__":
    main()
