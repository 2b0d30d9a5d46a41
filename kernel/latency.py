"""Times the "Rust (geoxr)" kernel as a user meets it, with Jupyter's own client.

Starts the kernel (until it answers kernel_info, as nbclient and JupyterLab wait),
runs trivial cells one after the other, then shuts it down, and prints one JSON
line: {"start": s, "cells": [[code, s, stderr, text], ...], "shutdown": s}, where
text is the cell's text/plain result. Run by
`cargo xtask tutorial` after the notebooks, so the kernel's build folder is warm.

usage: python latency.py KERNEL_NAME STARTUP_TIMEOUT_S CELL [CELL ...]
"""

import json
import sys
import time

from jupyter_client.manager import KernelManager


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
    print(json.dumps({"start": start, "cells": timed, "shutdown": shutdown}))


if __name__ == "__main__":
    main()
