"""The ``intake-webcoos`` command line."""

from __future__ import annotations

import functools
import importlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

#: Commands whose module is imported only when they run: ``serve`` needs the
#: stand-in server, which no other command (nor ``--help``) should pay for.
LAZY_COMMANDS = {
    "serve": ("intake_webcoos.server.command", "serve",
              "Run the stand-in WebCOOS server on 127.0.0.1 until Ctrl-C."),
}


#: Arguments of the Python API that have an option here.  Messages are written for
#: Python (``pass token=...``); on the command line they name the option instead
#: (``pass --token ...``): see :func:`cli_message`.
OPTIONS = {"token": "--token", "base_url": "--base-url", "refresh": "--refresh",
           "start": "--start", "end": "--end", "every": "--every", "freq": "--freq",
           "file_concurrency": "--concurrency", "cache_files": "--cache-files",
           "older_than": "--older-than"}
#: ``name=`` at the start of a word (not inside an identifier, a URL's query or a path).
#: The second group is a flag's ``True``, or empty when no value follows.
_ARGUMENT = re.compile(r"(?<![^\s(])(" + "|".join(OPTIONS) + r")=(True\b|(?=\s|$))?")


def cli_message(message: str) -> str:
    """A message written for Python, as the command line says it.

    Each ``name=`` of an argument that has an option becomes that option:
    ``pass token=... or set WEBCOOS_API_TOKEN`` becomes ``pass --token ... or set
    WEBCOOS_API_TOKEN``, ``every='10' has no unit`` becomes ``--every '10' has no
    unit``, ``refresh=True`` becomes ``--refresh``.  Other words are left alone.
    """
    def option(match: re.Match) -> str:
        name = OPTIONS[match.group(1)]
        return name if match.group(2) is not None else name + " "

    return _ARGUMENT.sub(option, message)


def _api_options(f):
    """``--token``, ``--base-url`` (default: the environment) and ``--refresh``."""
    f = click.option("--refresh", is_flag=True,
                     help="Ask the API again instead of using the on-disk cache.")(f)
    f = click.option("--base-url", envvar="WEBCOOS_API_URL", default=None,
                     help="API root (default $WEBCOOS_API_URL or the real WebCOOS API).")(f)
    return click.option("--token", envvar="WEBCOOS_API_TOKEN", default=None,
                        help="API token (default $WEBCOOS_API_TOKEN).", show_envvar=True)(f)


def _time_options(f):
    f = click.option("--every", default=None,
                     help="Keep the first element of each UTC bin of this width, e.g. 10min.")(f)
    f = click.option("--end", required=True, help="Last time, UTC (inclusive), ISO 8601.")(f)
    return click.option("--start", required=True,
                        help="First time, UTC (inclusive), ISO 8601.")(f)


def _client(token: str | None, base_url: str | None, refresh: bool = False):
    """A client; with ``refresh``, its camera list is asked of the API again at once."""
    from intake_webcoos.api.sync import Client

    client = Client(token, base_url)
    if refresh:
        client.assets(refresh=True)
    return client


def _emit(frame, fmt: str) -> None:
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", date_format="iso", indent=1))
    else:
        click.echo(frame.to_string(index=False) if len(frame) else "(nothing)")


_format = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]),
                       default="table", show_default=True)


class _Commands(click.Group):
    """The command group: lazy commands, and user errors as one line, not a traceback.

    :data:`LAZY_COMMANDS` load when used; the errors a user can cause end the
    command with their message, naming this command line's options
    (:func:`cli_message`), and a non-zero exit.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attribute, _ = LAZY_COMMANDS[name]
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        rows = [(name, LAZY_COMMANDS[name][2] if name in LAZY_COMMANDS
                 else self.commands[name].get_short_help_str(limit))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from intake_webcoos.errors import WebcoosError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (WebcoosError, OSError, ValueError) as exc:
            raise click.ClickException(cli_message(str(exc))) from None
        except KeyboardInterrupt:
            raise click.Abort() from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="intake_webcoos")
def main() -> None:
    """WebCOOS webcam archive: cameras, listings, downloads, catalogs, a stand-in server.

    Commands that talk to the API take --token/--base-url or WEBCOOS_API_TOKEN /
    WEBCOOS_API_URL. Times are UTC (ISO 8601); both bounds are inclusive.
    """


def _numbers(value: str | None, option: str, check: Callable[[Any, str], Any]) -> Any:
    """The numbers of ``--near 21.3,-157.8`` (or ``--within``), checked by ``check``."""
    if value is None:
        return None
    from intake_webcoos.errors import InvalidLocationError

    try:
        numbers = tuple(float(part) for part in value.split(","))
    except ValueError:
        raise InvalidLocationError(
            f"{option} must be numbers separated by commas, got {value!r}") from None
    return check(numbers, option)


@main.command()
@_api_options
@_format
@click.option("--search", default=None, help="Words to find in the slug, label or products.")
@click.option("--near", metavar="LAT,LON", default=None,
              help="Add distance_km from this point and sort by it, nearest first.")
@click.option("--within", metavar="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX", default=None,
              help="Keep the cameras inside this box (degrees).")
def cameras(token, base_url, refresh, fmt, search, near, within) -> None:
    """List the cameras: position, state, region, status, products, data span."""
    from intake_webcoos.api.geo import as_box, as_point

    # Checked before anything is asked of the API.
    near, within = _numbers(near, "--near", as_point), _numbers(within, "--within", as_box)
    frame = _client(token, base_url, refresh).cameras(near=near, within=within)
    if search:
        words = search.lower().split()
        text = (frame["slug"] + " " + frame["label"] + " " + frame["products"]).str.lower()
        frame = frame[[all(word in row for word in words) for row in text]]
    _emit(frame, fmt)


@main.command()
@_api_options
@_format
@click.argument("camera")
def products(token, base_url, refresh, fmt, camera) -> None:
    """List a camera's products, with their files' count, bytes and time span."""
    import pandas as pd

    from intake_webcoos.api.models import time_span

    rows = []
    for product in _client(token, base_url, refresh).products(camera):
        s3 = product.s3_services
        first, last = time_span(s3)
        rows.append({"product": product.slug,
                     "services": ",".join(s.type or "?" for s in product.services),
                     "count": sum(s.stats.count for s in s3),
                     "bytes": sum(s.stats.size or 0 for s in s3),
                     "first": first.isoformat() if first else "",
                     "last": last.isoformat() if last else ""})
    _emit(pd.DataFrame(rows), fmt)


@main.command()
@_api_options
@_format
@click.option("--freq", type=click.Choice(["daily", "weekly", "monthly"]), default="daily",
              show_default=True)
@click.argument("camera")
@click.argument("product")
def inventory(token, base_url, refresh, fmt, freq, camera, product) -> None:
    """Counts and bytes per day, week or month (UTC)."""
    _emit(_client(token, base_url, refresh).inventory(camera, product, freq, refresh=refresh),
          fmt)


@main.command()
@_api_options
@click.argument("camera")
@click.argument("product")
def latest(token, base_url, refresh, camera, product) -> None:
    """The newest element of a camera's product."""
    element = _client(token, base_url, refresh).latest(camera, product)
    click.echo(f"time      {element.time.isoformat()}\nfilename  {element.label}\n"
               f"size      {element.size}\nurl       {element.url}")


@main.command()
@_api_options
@_time_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file: .csv or .parquet (by suffix).")
@click.argument("camera")
@click.argument("product")
def elements(token, base_url, refresh, start, end, every, output, camera, product) -> None:
    """List the files of a camera's product between two times."""
    frame = _client(token, base_url, refresh).elements(camera, product, start, end,
                                                       every=every, refresh=refresh)
    if frame.empty and frame.attrs.get("why_empty"):
        click.echo(f"no elements: {frame.attrs['why_empty']}", err=True)
    if output is None:
        _emit(frame[["time", "filename", "size", "url"]], "table")
        click.echo(f"{len(frame)} elements", err=True)
        return
    suffix = Path(output).suffix.lower()
    if suffix == ".csv":
        frame.to_csv(output, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(output, index=False)
    else:
        raise click.BadParameter("the output must end in .csv or .parquet", param_hint="-o")
    click.echo(f"{len(frame)} elements written to {output}", err=True)


@main.command()
@_api_options
@_time_options
@click.option("--concurrency", type=click.IntRange(1, 256), default=64, show_default=True,
              help="Files downloaded at once.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--cache-files", is_flag=True,
              help="Keep the files in the on-disk cache too, and copy those already there.")
@click.argument("camera")
@click.argument("product")
@click.argument("dest", type=click.Path(file_okay=False))
def download(token, base_url, refresh, start, end, every, concurrency, quiet, cache_files,
             camera, product, dest) -> None:
    """Download files to DEST/{camera}/{product}/YYYY/MM/DD/ (resumable, atomic).

    A rerun skips files already complete (checked by size) and removes the
    temporary files of interrupted runs. Ctrl-C stops every transfer and leaves
    no partial file (exit status 130).
    """
    from intake_webcoos.cli.download import download as run

    try:
        frame = _client(token, base_url, refresh).elements(camera, product, start, end,
                                                           every=every, refresh=refresh)
        files = {"cache": True, "cache_files": True} if cache_files else {}
        report = run(frame, dest, token=token, base_url=base_url, progress=not quiet,
                     file_concurrency=concurrency, **files)
    except KeyboardInterrupt:
        click.echo("Interrupted: every transfer was stopped and no partial file is left; "
                   "the files already complete are kept. Run the same command again to "
                   "resume.", err=True)
        sys.exit(130)
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)


@main.command()
@_api_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The intake catalog (YAML) to write.")
@click.option("--search", default=None, help="Words to find in the slug, label or products.")
@click.option("--product", "products", multiple=True, help="Keep only this product (repeat).")
@click.option("--archived/--no-archived", default=True, show_default=True,
              help="Include archived cameras.")
@click.pass_context
def catalog(ctx, token, base_url, refresh, output, search, products, archived) -> None:
    """Write an intake catalog of all (or the searched) cameras."""
    from intake_webcoos.intake.catalog import build_catalog

    # A root given on the command line is written into the entries; one from the
    # environment is not, so the catalog follows WEBCOOS_API_URL where it is read.
    explicit = ctx.get_parameter_source("base_url") == click.core.ParameterSource.COMMANDLINE
    cat = build_catalog(base_url, token, search=search, products=list(products) or None,
                        include_archived=archived, store_base_url=explicit,
                        client=_client(token, base_url, refresh))
    cat.to_yaml_file(output)
    click.echo(f"{len(list(cat))} entries written to {output}", err=True)


@main.group()
def cache() -> None:
    """The on-disk cache of API answers and element files ($WEBCOOS_CACHE_DIR)."""


def _store():
    from intake_webcoos.api.config import Settings

    settings = Settings.resolve(cache=True)
    return settings.cache_store()


@cache.command("info")
def cache_info() -> None:
    """Where the cache is, how big, and what it holds."""
    import datetime as dt

    store = _store()
    click.echo(f"folder  {store.directory}")
    click.echo(f"size    {store.volume() / 1e6:.1f} MB on disk")
    for row in store.summary():
        when = "" if row.newest is None else (
            f"  stored {dt.datetime.fromtimestamp(row.oldest, dt.UTC):%Y-%m-%d %H:%M} to "
            f"{dt.datetime.fromtimestamp(row.newest, dt.UTC):%Y-%m-%d %H:%M} UTC")
        click.echo(f"{row.kind:<10} {row.count:>7} entries {row.bytes / 1e6:>10.1f} MB{when}")


@cache.command("clear")
@click.option("--older-than", default=None,
              help="Remove only entries stored longer ago than this, e.g. 7d or 12h.")
def cache_clear(older_than) -> None:
    """Remove the cache's entries (all of them, or the old ones)."""
    from intake_webcoos.api.times import to_timedelta

    age = None if older_than is None else to_timedelta(older_than, "older_than")
    removed = _store().clear(None if age is None else age.total_seconds())
    click.echo(f"removed {removed} entries")


@main.command()
@click.option("-o", "--output", type=click.Path(file_okay=False), default="webcoos-demo",
              show_default=True, help="Folder for the pictures and report.md.")
@click.option("--width", type=click.IntRange(16, 2688), default=1280, show_default=True)
@click.option("--height", type=click.IntRange(16, 1520), default=720, show_default=True)
def demo(output, width, height) -> None:
    """Run the whole path on the built-in stand-in and write pictures and a report."""
    from intake_webcoos.cli.demo import run_demo

    run_demo(output, frame_size=(width, height), echo=functools.partial(click.echo, err=False))


if __name__ == "__main__":  # pragma: no cover
    main()
