"""The ``serve`` command: the stand-in in the foreground, until interrupted."""

from __future__ import annotations

import threading

import click

from .faults import Faults
from .standin import StandIn
from .video import VideoSettings


def _fault_options(prefix: str, origin: str):
    """Click options for one origin's faults (``--api-latency``, ``--files-error-rate``...)."""
    opts = [
        click.option(f"--{prefix}-latency", type=float, default=0.0, show_default=True,
                     help=f"Seconds added before every {origin} answer."),
        click.option(f"--{prefix}-error-rate", type=float, default=0.0,
                     help=f"Fraction of {origin} requests answered 500/502/503/504."),
        click.option(f"--{prefix}-throttle-rate", type=float, default=0.0,
                     help=f"Fraction of {origin} requests answered 429 with Retry-After."),
        click.option(f"--{prefix}-drop-rate", type=float, default=0.0,
                     help=f"Fraction of {origin} connections dropped without an answer."),
        click.option(f"--{prefix}-truncate-rate", type=float, default=0.0,
                     help=f"Fraction of {origin} bodies cut short of Content-Length."),
        click.option(f"--{prefix}-slow-rate", type=float, default=0.0,
                     help=f"Fraction of {origin} bodies that trickle out slowly."),
    ]

    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


def faults_from(options: dict, prefix: str, seed: int) -> Faults:
    """A :class:`Faults` from the click options of one origin."""
    return Faults(
        latency=options[f"{prefix}_latency"],
        error_rate=options[f"{prefix}_error_rate"],
        throttle_rate=options[f"{prefix}_throttle_rate"],
        drop_rate=options[f"{prefix}_drop_rate"],
        truncate_rate=options[f"{prefix}_truncate_rate"],
        slow_rate=options[f"{prefix}_slow_rate"],
        seed=seed,
    )


@click.command(name="serve")
@click.option("--port", type=int, default=8000, show_default=True, help="API port (0: any free).")
@click.option("--files-port", type=int, default=8001, show_default=True,
              help="File origin port (0: any free).")
@click.option("--token", default="standin-token", show_default=True,
              help="The API token the stand-in accepts.")
@click.option("--span-days", type=float, default=14, show_default=True,
              help="Days of data per camera.")
@click.option("--span-end", default="2025-09-17T00:00:00Z", show_default=True,
              help="End of the data (UTC).")
@click.option("--width", type=click.IntRange(16, 2688), default=1280, show_default=True)
@click.option("--height", type=click.IntRange(16, 1520), default=720, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--clip-seconds", type=float, default=20.0, show_default=True,
              help="Length of the video-archive clips.")
@click.option("--clip-fps", type=int, default=4, show_default=True)
@click.option("--clip-width", type=int, default=160, show_default=True)
@click.option("--clip-height", type=int, default=96, show_default=True)
@_fault_options("api", "API")
@_fault_options("files", "file origin")
def serve(port, files_port, token, span_days, span_end, width, height, seed, clip_seconds,
          clip_fps, clip_width, clip_height, **faults) -> None:
    """Run the stand-in WebCOOS server on 127.0.0.1 until Ctrl-C."""
    try:
        standin = StandIn(
            video=VideoSettings(clip_seconds, clip_fps, clip_width, clip_height),
            token=token, span_days=span_days, span_end=span_end, frame_size=(width, height),
            api_faults=faults_from(faults, "api", seed),
            file_faults=faults_from(faults, "files", seed),
            api_port=port, files_port=files_port, seed=seed,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        standin.start()
    except OSError as exc:
        raise click.ClickException(f"cannot bind the stand-in's ports: {exc}") from None
    with standin:
        click.echo(f"WebCOOS stand-in serving on 127.0.0.1 (Ctrl-C to stop)\n"
                   f"  API:   {standin.api_url}\n"
                   f"  files: {standin.files_url}\n"
                   f"  token: {standin.token}\n"
                   f"  try:   curl -H 'Authorization: Token {standin.token}' "
                   f"{standin.api_url}/assets/\n"
                   f"  use:   export WEBCOOS_API_URL={standin.api_url} "
                   f"WEBCOOS_API_TOKEN={standin.token}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopped")
