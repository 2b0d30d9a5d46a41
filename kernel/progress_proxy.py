"""Stands in front of evcxr_jupyter so geoxr's progress line updates in place.

evcxr 0.22 sends a cell's output to Jupyter one finished line at a time, as
stream messages, and has no display_id, so a line that changes cannot move. This
proxy is what Jupyter starts for the "Rust (geoxr)" kernel: it owns the ports of
Jupyter's connection file, starts evcxr (through launch-kernel.sh) on ports of its
own on 127.0.0.1 with the same key, and passes every message through unchanged,
except geoxr's marked progress lines. Those it turns into a `display_data` message
the first time a computation reports and `update_display_data` after that (one
display_id per computation), signed with the connection key, so the notebook shows
one line that updates and keeps the final one.

Kernel start, interrupts (interrupt_mode "message": the request goes through on
the control channel), input requests, restarts and shutdown pass through; the proxy
exits with evcxr's exit code as soon as evcxr exits, and shares its process group,
so Jupyter's kill reaches both.

usage: python progress_proxy.py CONNECTION_FILE LAUNCHER [LAUNCHER_ARGS ...]
       python progress_proxy.py --self-test
(the launcher gets its args, then the connection file written for evcxr).
"""

import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import uuid

import zmq

DELIMITER = b"<IDS|MSG>"
# Must match crate/src/compute/progress.rs (DISPLAY_ENV, DISPLAY_VALUE, DISPLAY_MARK).
ENV, ENV_VALUE = "GEOXR_PROGRESS", "jupyter-display"
MARKED = re.compile(r"\x1b\]geoxr-progress;([^;\x07]+);(update|final)\x07(.*)")
CHANNELS = ("shell", "control", "stdin", "hb")


def ephemeral_start():
    """The lowest port Linux hands out for outgoing connections and for bind(0)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count):
    """`count` distinct free loopback ports for evcxr, below the ephemeral range.

    Ports from bind(0) lie inside that range, and so do the local ends of the
    proxy's own connection attempts to evcxr, made before evcxr listens: one of
    those attempts could take a port handed to evcxr in the meantime, and evcxr
    then dies at start with "Address already in use" (seen once in about thirty
    starts). Below the range no outgoing connection can take them. Falls back to
    bind(0) when the range leaves no room below it.
    """
    import random

    rng = random.SystemRandom()
    low = ephemeral_start()
    ports = []
    for _ in range(200 * count):
        if len(ports) == count or low <= 10000:
            break
        port = rng.randrange(10000, low)
        if port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in ports:
            ports.append(port)
    return ports


class Signer:
    def __init__(self, key, scheme):
        self.key = key.encode()
        self.digest = getattr(hashlib, scheme.split("-", 1)[-1])

    def sign(self, parts):
        if not self.key:
            return b""
        mac = hmac.new(self.key, digestmod=self.digest)
        for p in parts:
            mac.update(p)
        return mac.hexdigest().encode()


def rewrite_stream(frames, signer, shown):
    """The frames to publish for one iopub message from evcxr.

    A stream message holding marked lines becomes, in order, stream messages for
    the plain text between them and display messages for the marked lines. Any
    other message is returned as it came.
    """
    try:
        at = frames.index(DELIMITER)
        header = json.loads(frames[at + 2])
        if header.get("msg_type") != "stream":
            return [frames]
        content = json.loads(frames[at + 5])
        text = content.get("text", "")
    except (ValueError, IndexError):
        return [frames]
    if "\x1b]geoxr-progress;" not in text:
        return [frames]
    prefix, parent, metadata = frames[:at], frames[at + 3], frames[at + 4]
    out, plain = [], []

    def message(msg_type, body):
        h = dict(header, msg_id=uuid.uuid4().hex, msg_type=msg_type)
        parts = [json.dumps(h).encode(), parent, metadata, json.dumps(body).encode()]
        return prefix + [DELIMITER, signer.sign(parts)] + parts

    def flush():
        if plain:
            out.append(message("stream", dict(content, text="".join(plain))))
            plain.clear()

    for line in text.splitlines(keepends=True):
        m = MARKED.fullmatch(line.rstrip("\n"))
        if not m:
            plain.append(line)
            continue
        flush()
        ident, kind, shown_text = m.groups()
        display_id = "geoxr-progress-" + ident
        msg_type = "update_display_data" if display_id in shown else "display_data"
        if kind == "final":
            shown.discard(display_id)
        else:
            shown.add(display_id)
        out.append(
            message(
                msg_type,
                {
                    "data": {"text/plain": shown_text + "\n"},
                    "metadata": {},
                    "transient": {"display_id": display_id},
                },
            )
        )
    flush()
    return out


def self_test():
    """Checks rewrite_stream on made-up messages; run by the xtask crate's tests."""
    signer = Signer("key", "hmac-sha256")

    def message(msg_type, content):
        parts = [
            json.dumps({"msg_type": msg_type, "msg_id": "m", "session": "s"}).encode(),
            b'{"msg_id": "request"}',
            b"{}",
            json.dumps(content).encode(),
        ]
        return [b"topic", DELIMITER, signer.sign(parts)] + parts

    mark = "\x1b]geoxr-progress;7-1-0;%s\x07%s\n"
    shown, seen = set(), []
    for text in [
        "before\n",
        "a\n" + mark % ("update", "[geoxr] mean: 1/3") + "b\n",
        mark % ("update", "[geoxr] mean: 2/3"),
        "not a mark: \x1b]geoxr-progress;7-1-0;update\x07x\n",
        mark % ("final", "[geoxr] mean: 3/3, done in 2.0 s"),
    ]:
        for out in rewrite_stream(message("stream", {"name": "stdout", "text": text}), signer, shown):
            assert out[:2] == [b"topic", DELIMITER], out
            assert out[2] == signer.sign(out[3:7]), "a rewritten message is signed"
            assert json.loads(out[4]) == {"msg_id": "request"}, "the parent is kept"
            content = json.loads(out[6])
            kind = json.loads(out[3])["msg_type"]
            seen.append((kind, content.get("text") or content["data"]["text/plain"]))
            if kind != "stream":
                assert content["transient"] == {"display_id": "geoxr-progress-7-1-0"}
    assert seen == [
        ("stream", "before\n"),
        ("stream", "a\n"),
        ("display_data", "[geoxr] mean: 1/3\n"),
        ("stream", "b\n"),
        ("update_display_data", "[geoxr] mean: 2/3\n"),
        ("stream", "not a mark: \x1b]geoxr-progress;7-1-0;update\x07x\n"),
        ("update_display_data", "[geoxr] mean: 3/3, done in 2.0 s\n"),
    ], seen
    assert not shown, "a finished computation is forgotten"
    other = message("execute_result", {"data": {}})
    assert rewrite_stream(other, signer, shown) == [other]
    low = ephemeral_start()
    ports = free_ports(5)
    assert len(set(ports)) == 5, ports
    assert low <= 10000 or all(10000 <= p < low for p in ports), (ports, low)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    print("progress_proxy self-test: ok")


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    front_file, launcher = sys.argv[1], sys.argv[2:]
    with open(front_file) as f:
        front = json.load(f)
    signer = Signer(front.get("key", ""), front.get("signature_scheme", "hmac-sha256"))
    back = dict(front, ip="127.0.0.1", transport="tcp")
    for c, port in zip(CHANNELS + ("iopub",), free_ports(len(CHANNELS) + 1)):
        back[c + "_port"] = port
    fd, back_file = tempfile.mkstemp(prefix="geoxr-evcxr-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(back, f)

    ctx = zmq.Context()
    url = lambda conf, c: "%s://%s:%d" % (conf["transport"], conf["ip"], conf[c + "_port"])
    pairs = {}
    for c in CHANNELS:
        outer = ctx.socket(zmq.ROUTER)
        outer.bind(url(front, c))
        inner = ctx.socket(zmq.DEALER)
        # evcxr answers an input request to the identity the execute request came
        # from, on its stdin socket: shell and stdin must share one identity.
        if c in ("shell", "stdin"):
            inner.setsockopt(zmq.IDENTITY, b"geoxr-proxy-shell")
        inner.setsockopt(zmq.LINGER, 0)
        inner.connect(url(back, c))
        pairs[outer] = inner
        pairs[inner] = outer
    iopub_out = ctx.socket(zmq.PUB)
    iopub_out.bind(url(front, "iopub"))
    iopub_in = ctx.socket(zmq.SUB)
    iopub_in.setsockopt(zmq.SUBSCRIBE, b"")
    iopub_in.connect(url(back, "iopub"))

    env = dict(os.environ, **{ENV: ENV_VALUE})
    child = subprocess.Popen(launcher + [back_file], env=env)
    # Interrupts arrive as messages; a SIGINT sent to the whole group (a client
    # set to signal mode) must not end the proxy while evcxr carries on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())

    poller = zmq.Poller()
    for s in pairs:
        poller.register(s, zmq.POLLIN)
    poller.register(iopub_in, zmq.POLLIN)
    shown = set()

    def pass_on(timeout_ms):
        ready = poller.poll(timeout_ms)
        for s, _ in ready:
            frames = s.recv_multipart()
            if s is iopub_in:
                for msg in rewrite_stream(frames, signer, shown):
                    iopub_out.send_multipart(msg)
            else:
                pairs[s].send_multipart(frames)
        return bool(ready)

    try:
        while child.poll() is None:
            pass_on(200)
        # What evcxr sent just before it exited (a shutdown reply, the last
        # output) still goes out.
        for _ in range(20):
            if not pass_on(20):
                break
    finally:
        code = child.poll()
        if code is None:
            child.terminate()
            code = child.wait()
        try:
            os.unlink(back_file)
        except OSError:
            pass
        # Replies to Jupyter get a moment to leave; nothing is owed to evcxr, gone.
        for s in pairs:
            s.close(linger=300 if s.socket_type == zmq.ROUTER else 0)
        iopub_in.close(linger=0)
        iopub_out.close(linger=300)
        ctx.term()
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
