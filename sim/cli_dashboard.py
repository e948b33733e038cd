"""`pmsim dashboard`: start the Streamlit dashboard on this machine (127.0.0.1 only)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

import typer

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
DEFAULT_PORT = 8501


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The server command: headless, local only, no usage statistics, no file watcher, no
    "Deploy" button in the toolbar, and uploads capped by the server itself (``server.maxUploadSize`` is in MB: the cap of
    sim/limits.py rounded up; the app then checks the exact number of bytes)."""
    from sim.limits import MAX_UPLOAD_BYTES

    upload_mb = max(1, -(-MAX_UPLOAD_BYTES // 1_000_000))
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless", "true", "--server.address", address, "--server.port", str(port),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.showEmailPrompt", "false", "--server.maxUploadSize", str(upload_mb),
            "--client.toolbarMode", "minimal"]


def port_free(port: int, address: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def open_when_ready(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Open ``url`` in the user's browser once the server answers its health check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    webbrowser.open(url)
                    return
        except OSError:
            time.sleep(0.2)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def dashboard(port: int = typer.Option(DEFAULT_PORT, help="Port to serve on (a free one is used if taken)."),
                  open_browser: bool = typer.Option(False, "--open", help="Open the dashboard in your web browser."),
                  dry_run: bool = typer.Option(False, "--dry-run", help="Print the server command and exit.")) -> None:
        """Open the interactive dashboard: explore a scenario, compare strategies, run experiments."""
        if not APP.exists():
            typer.echo(f"dashboard not found at {APP}", err=True)
            raise typer.Exit(2)
        if not dry_run and not port_free(port):
            new = free_port()
            typer.echo(f"port {port} is in use; using {new}")
            port = new
        cmd = streamlit_command(port)
        if dry_run:
            typer.echo(" ".join(cmd))
            return
        url = f"http://127.0.0.1:{port}"
        typer.echo(f"pmsim dashboard: open {url} in your browser (Ctrl+C to stop)")
        proc = subprocess.Popen(cmd)
        signal.signal(signal.SIGTERM, _interrupt)  # a terminated pmsim stops its server too
        if open_browser:
            threading.Thread(target=open_when_ready, args=(url, proc), daemon=True).start()
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            code = 0
        raise typer.Exit(code)
