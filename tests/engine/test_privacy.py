"""Privacy: nothing PhotoClip does on its own touches the network (issue: ONNX Runtime telemetry).

Only an explicit model download may connect anywhere. Python-level socket use is caught by an audit
hook in the child process; native code (ONNX Runtime's telemetry thread resolves a Microsoft host a
few seconds after the first session) only shows in a system-call trace, so that part needs strace.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.test_toy_clip import FIXTURE

ROOT = Path(__file__).resolve().parents[2]
# A connect() to an internet address, or to the name-service cache daemon (a DNS lookup by proxy).
NETWORK_CALL = re.compile(r"(connect|sendto|sendmsg)\(.*(sa_family=AF_INET6?\b|nscd)")
LINGER = 16.0  # seconds: ONNX Runtime's telemetry thread made its first lookup ~10 s after the first session


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_runtime_telemetry_is_switched_off_before_onnxruntime_can_load() -> None:
    """The switch is only read when the native library loads, so importing photoclip must set it."""
    code = (
        "import os, sys, photoclip; "
        "assert 'onnxruntime' not in sys.modules; "
        "print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(),
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    try:
        probe = subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True, timeout=20)
        return probe.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.slow
@pytest.mark.gui
@pytest.mark.skipif(not (FIXTURE / "photoclip.json").is_file(), reason="toy CLIP fixture missing")
def test_index_search_watch_and_gui_make_no_network_connection(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    traced = _strace_works()
    trace = tmp_path / "trace.txt"
    command = [sys.executable, "-m", "tests.engine.offline_driver", str(tmp_path), str(LINGER)]
    if traced:
        command = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace), *command]
    out = subprocess.run(command, capture_output=True, text=True, env=_clean_env(), cwd=ROOT, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    python_level = [line for line in out.stdout.splitlines() if line.startswith("NETWORK ")]
    assert python_level == [], python_level
    if not traced:
        pytest.skip("strace is not usable here: only Python-level socket use was checked")
    native = [line for line in trace.read_text(errors="replace").splitlines() if NETWORK_CALL.search(line)]
    assert native == [], "network system calls:\n" + "\n".join(native[:20])
