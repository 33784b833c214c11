"""Starts `clavis serve --dev` in a fresh directory on free ports and yields its URLs and the
admin API key it generated."""

import os
import queue
import signal
import subprocess
import threading

import pytest


@pytest.fixture(scope="session")
def clavis(tmp_path_factory):
    binary = os.environ.get("CLAVIS_BIN", "target/debug/clavis")
    workdir = tmp_path_factory.mktemp("clavis")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVIS_")}
    env.update(CLAVIS_SERVE__PUBLIC__PORT="0", CLAVIS_SERVE__ADMIN__PORT="0", RUST_LOG="warn", NO_COLOR="1")
    process = subprocess.Popen(
        [binary, "serve", "--dev"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in process.stdout], daemon=True).start()
    urls = {}
    while len(urls) < 2:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            process.kill()
            pytest.fail("clavis printed no banner: " + process.stderr.read())
        if "public API:" in line:
            urls["public"] = line.split()[-1].rstrip("/")
        elif "admin API:" in line:
            urls["admin"] = line.split()[-1].rstrip("/")
    with open(workdir / "clavis-data" / "admin-api-key") as key:
        urls["admin_key"] = key.read().strip()
    yield urls
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
