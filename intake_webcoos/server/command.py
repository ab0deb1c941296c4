"""The ``serve`` command: the stand-in in the foreground, until interrupted."""

from __future__ import annotations

import threading
from dataclasses import Field, fields

import click

from intake_webcoos.server.faults import Faults
from intake_webcoos.server.standin import StandIn
from intake_webcoos.server.variants import Variants
from intake_webcoos.server.video import VideoSettings, default_cache_dir


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


def _variant_option(switch: Field):
    """The click option of one :class:`Variants` switch, from its field's metadata."""
    name = "--" + switch.name.replace("_", "-")
    kind, choices = switch.metadata["kind"], switch.metadata["choices"]
    common = {"default": switch.default, "show_default": True, "help": switch.metadata["help"]}
    if kind is bool:
        return click.option(f"{name}/--no-{name[2:]}", **common)
    if choices is not None:
        # Choices are matched as text (click 8.1), then turned back into the field's type.
        return click.option(name, type=click.Choice([str(c) for c in choices]),
                            callback=lambda _ctx, _param, value: kind(value),
                            **{**common, "default": str(switch.default)})
    return click.option(name, type=kind, **common)


def _variant_options(f):
    """Click options for every :class:`Variants` switch (``--end-rule``, ``--raw-colons``...)."""
    for switch in reversed(fields(Variants)):
        f = _variant_option(switch)(f)
    return f


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
@click.option("--width", type=click.IntRange(16, 2688), default=2688, show_default=True)
@click.option("--height", type=click.IntRange(16, 1520), default=1520, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--clip-seconds", type=float, default=20.0, show_default=True,
              help="Length of the video-archive clips.")
@click.option("--clip-fps", type=int, default=4, show_default=True)
@click.option("--clip-width", type=int, default=160, show_default=True)
@click.option("--clip-height", type=int, default=96, show_default=True)
@click.option("--clip-keyframe-seconds", type=float, default=None,
              help="Seconds between key frames of the clips (a camera's: 1-2) "
                   "[default: x264's, every 250 frames and at scene cuts].")
@click.option("--clip-bitrate", type=int, default=None,
              help="Constant bitrate of the clips in bit/s (a camera's: 1200000, about "
                   "90 MB per 600 s clip); default: constant quality (CRF 23).")
@click.option("--clip-preset", default="ultrafast", show_default=True,
              help="x264 preset of the clips: 'veryfast' makes streams that decode as a "
                   "camera's (CABAC, deblocking), at a few times the cost of making them.")
@click.option("--clip-loop-seconds", type=float, default=None,
              help="Encode this many seconds of each clip and repeat them to its length "
                   "(a multiple of --clip-keyframe-seconds): real-size clips made fast.")
@click.option("--clip-cache", "clip_cache", type=click.Path(file_okay=False), default=None,
              help="Folder of encoded clips kept between runs [default: "
                   "$WEBCOOS_STANDIN_CACHE, else the user's cache folder].")
@click.option("--no-clip-cache", is_flag=True, help="Keep encoded clips in memory only.")
@_fault_options("api", "API")
@_fault_options("files", "file origin")
@_variant_options
def serve(port, files_port, token, span_days, span_end, width, height, seed, clip_seconds,
          clip_fps, clip_width, clip_height, clip_keyframe_seconds, clip_bitrate, clip_preset,
          clip_loop_seconds, clip_cache, no_clip_cache, **options) -> None:
    """Run the stand-in WebCOOS server on 127.0.0.1 until Ctrl-C.

    The options from --end-rule on pick a reading of the real API where the
    public record is unclear (see intake_webcoos.server.Variants).
    """
    cache = "" if no_clip_cache else (clip_cache or default_cache_dir())
    try:
        standin = StandIn(
            video=VideoSettings(clip_seconds, clip_fps, clip_width, clip_height,
                                clip_keyframe_seconds, clip_bitrate, clip_preset,
                                clip_loop_seconds, cache),
            token=token, span_days=span_days, span_end=span_end, frame_size=(width, height),
            api_faults=faults_from(options, "api", seed),
            file_faults=faults_from(options, "files", seed),
            api_port=port, files_port=files_port, seed=seed,
            variants=Variants(**{switch.name: options[switch.name]
                                 for switch in fields(Variants)}),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        standin.start()
    except OSError as exc:
        raise click.ClickException(f"cannot bind the stand-in's ports: {exc}") from None
    with standin:
        files = "".join(f"  files: {url}\n" for url in standin.files_urls)
        click.echo(f"WebCOOS stand-in serving on 127.0.0.1 (Ctrl-C to stop)\n"
                   f"  API:   {standin.api_url}\n"
                   f"{files}"
                   f"  token: {standin.token}\n"
                   f"  try:   curl -H 'Authorization: Token {standin.token}' "
                   f"{standin.api_url}/assets/\n"
                   f"  use:   export WEBCOOS_API_URL={standin.api_url} "
                   f"WEBCOOS_API_TOKEN={standin.token}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopped")
