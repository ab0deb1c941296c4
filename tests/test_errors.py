"""The error family (intake_webcoos.errors): where it is importable, its bases, its pickles."""

from __future__ import annotations

import json
import pickle

import cloudpickle
import pytest

import intake_webcoos
from intake_webcoos import errors

from .helpers import fresh_python

FAMILY = [getattr(errors, name) for name in errors.__all__
          if isinstance(getattr(errors, name), type)
          and issubclass(getattr(errors, name), BaseException)
          and not issubclass(getattr(errors, name), Warning)]

#: Each error -> the built-ins a PyData user would catch it as (Exception: none besides).
BUILTINS: dict[str, tuple[type, ...]] = {
    "WebcoosError": (Exception,),
    "AuthenticationError": (PermissionError,),
    "MissingTokenError": (PermissionError,),
    "InvalidTokenError": (PermissionError,),
    "ReadOnlyError": (PermissionError,),
    "NotFoundError": (LookupError,),
    "UnknownAssetError": (LookupError,),
    "UnknownProductError": (LookupError,),
    "NoFilesError": (LookupError,),
    "EmptyRangeError": (LookupError,),
    "PathNotFoundError": (FileNotFoundError, LookupError),
    "InvalidTimeError": (ValueError,),
    "InvalidLocationError": (ValueError,),
    "ServerError": (OSError,),
    "SlowServiceError": (OSError,),
    "IncompleteListingError": (OSError,),
    "ForeignOriginError": (OSError,),
    "ResponseFormatError": (OSError, ValueError),
    "RequestError": (OSError,),
    "TruncatedDownloadError": (OSError,),
    "FrameError": (Exception,),
    "FrameDecodeError": (Exception,),
    "FrameShapeError": (Exception,),
    "MissingDependencyError": (ImportError,),
    "ResultsFormatError": (ValueError,),
    "ProductKindError": (ValueError,),
    "GeometryError": (ValueError,),
    "SelectionTooLargeError": (ValueError,),
    "InvalidArgumentError": (ValueError,),
    "ArgumentTypeError": (TypeError,),
    "MissingVariableError": (KeyError, LookupError),
    "NotAFileError": (IsADirectoryError, OSError),
    "BlockingCallError": (RuntimeError,),
    "InterpreterExitError": (RuntimeError,),
    "FolderLockError": (OSError,),
}

#: One instance of each error, with every constructor argument given: (name, arguments).
EXAMPLES_SPEC: list[tuple[str, list]] = [
    ("WebcoosError", ["something failed"]),
    ("AuthenticationError", ["refused"]),
    ("MissingTokenError", []),
    ("InvalidTokenError", []),
    ("ReadOnlyError", ["WebCOOS is read-only"]),
    ("NotFoundError", ["nothing here"]),
    ("UnknownAssetError", ["waikiki_sheraten", ["waikiki_sheraton", "stevens_hoboken"]]),
    ("UnknownProductError", ["waikiki_sheraton", "one-minute-still", ["one-minute-stills"]]),
    ("NoFilesError", ["waikiki_sheraton", "video-streams", ["one-minute-stills"]]),
    ("EmptyRangeError", ["No one-minute-stills at night"]),
    ("PathNotFoundError", ["webcoos://x/y/2025/02/30 does not exist"]),
    ("InvalidTimeError", ["start is after end: swap them"]),
    ("InvalidLocationError", ["near: latitude 95 is outside -90 to 90 degrees"]),
    ("ServerError", ["http://127.0.0.1:1/webcoos/api/v1/elements/", 503, 3, "Unavailable"]),
    ("ServerError", ["http://127.0.0.1:1/x.jpg", None, 2, "ClientPayloadError"]),
    ("SlowServiceError", ["the inventory did not answer within 300 s"]),
    ("IncompleteListingError", ["the pages did not add up"]),
    ("ForeignOriginError", ["Refusing to send the WebCOOS token"]),
    ("ResponseFormatError", ["'results[0].uuid' is not a string"]),
    ("RequestError", ["http://127.0.0.1:1/webcoos/api/v1/elements/", 400, "bad service"]),
    ("TruncatedDownloadError", ["http://127.0.0.1:1/x.jpg arrived with 3 bytes"]),
    ("FrameError", ["http://127.0.0.1:1/x.jpg", "unusable"]),
    ("FrameDecodeError", ["http://127.0.0.1:1/x.jpg", "not a readable image"]),
    ("FrameShapeError", ["http://127.0.0.1:1/x.jpg", "160x100, not 320x180"]),
    ("MissingDependencyError", ["av", "video", "open_video"]),
    ("ResultsFormatError", ["line 1 is not JSON"]),
    ("ProductKindError", ["x/y holds stills, not video clips: read it with open_images"]),
    ("GeometryError", ["camera geometry field 'intrinsics.fx' is missing"]),
    ("SelectionTooLargeError", ["about 10,080 frames, more than max_frames=1,440"]),
    ("InvalidArgumentError", ["scale must be one of 1, 1/2, 1/4 or 1/8, not 0.3"]),
    ("ArgumentTypeError", ["give pixel points, or world= vertices and geometry="]),
    ("MissingVariableError", ["this Dataset has no 'image' variable"]),
    ("NotAFileError", ["webcoos://x/y/2025 is a directory, not a file."]),
    ("BlockingCallError", ["a blocking call cannot run on the IO loop it waits for"]),
    ("InterpreterExitError", ["the program is ending: the transfer was cancelled"]),
    ("FolderLockError", ["no run lock could be taken in /tmp/x"]),
]
EXAMPLES: list[errors.WebcoosError] = [getattr(errors, name)(*args) for name, args in EXAMPLES_SPEC]
#: Pickled and unpickled in a fresh interpreter: dask imports tblib, whose pickling
#: support (installed in this process by now) would otherwise hide a broken __reduce__.
ROUND_TRIP = """
import json, pickle, sys
from intake_webcoos import errors
assert "tblib.pickling_support" not in sys.modules
broken = []
for name, args in json.loads(sys.argv[1]):
    error = getattr(errors, name)(*args)
    try:
        again = pickle.loads(pickle.dumps(error))
    except Exception as exc:
        broken.append(f"{name}: {exc!r}")
        continue
    if (type(again), str(again), again.args, vars(again)) != \
            (type(error), str(error), error.args, vars(error)):
        broken.append(name)
print(json.dumps(broken))
"""


def test_the_family_is_importable_from_the_package():
    from intake_webcoos import (  # noqa: F401  (the import is the test)
        IncompleteListingError,
        NotFoundError,
        ServerError,
        WebcoosError,
    )

    for name in errors.__all__:
        assert getattr(intake_webcoos, name) is getattr(errors, name), name
        assert name in intake_webcoos.__all__


def test_every_exception_of_the_family_derives_from_webcoos_error():
    assert len(FAMILY) >= 20
    for error in FAMILY:
        assert issubclass(error, intake_webcoos.WebcoosError), error.__name__


def test_every_error_is_classified_and_has_an_example():
    assert set(BUILTINS) == {e.__name__ for e in FAMILY}, "classify each new error in BUILTINS"
    assert {type(e) for e in EXAMPLES} == set(FAMILY), "give each new error an example"


@pytest.mark.parametrize("name", list(BUILTINS))
def test_each_error_is_the_builtin_a_user_would_catch(name):
    for builtin in BUILTINS[name]:
        assert issubclass(getattr(errors, name), builtin), f"{name} is not a {builtin.__name__}"


def test_the_kinds_of_failure_map_to_builtins():
    from intake_webcoos import (
        ForeignOriginError,
        IncompleteListingError,
        InvalidTimeError,
        PathNotFoundError,
        RequestError,
        ResponseFormatError,
        ServerError,
        TruncatedDownloadError,
    )

    io = (ServerError, IncompleteListingError, ForeignOriginError, ResponseFormatError,
          RequestError, TruncatedDownloadError)
    assert all(issubclass(e, OSError) for e in io)
    assert issubclass(PathNotFoundError, FileNotFoundError)
    assert issubclass(InvalidTimeError, ValueError)
    assert not issubclass(InvalidTimeError, OSError)


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_each_error_pickles_with_its_message_and_attributes(error, dumps):
    """dask sends a worker's exception back to the client by pickle."""
    again = pickle.loads(dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error) and again.args == error.args
    assert vars(again) == vars(error)
    with pytest.raises(type(error)) as raised:
        raise again
    assert str(raised.value)


def test_each_error_pickles_by_itself_in_a_fresh_interpreter():
    assert json.loads(fresh_python(ROUND_TRIP, json.dumps(EXAMPLES_SPEC))) == []


def test_messages_say_what_to_do():
    assert "WEBCOOS_API_TOKEN" in str(errors.MissingTokenError())
    assert "fresh" in str(errors.InvalidTokenError())
    unknown = errors.UnknownAssetError("waikiki_sheraten", ["waikiki_sheraton", "stevens_hoboken"])
    assert unknown.suggestions == ["waikiki_sheraton"] and "Did you mean" in str(unknown)
    server = errors.ServerError("http://h/elements/", 503, 3)
    assert (server.url, server.status, server.attempts) == ("http://h/elements/", 503, 3)
    assert "HTTP 503" in str(server) and "try again later" in str(server)
    missing = errors.MissingDependencyError("av", "video", "x")
    assert "pip install intake_webcoos[video]" in str(missing)


def test_skipped_records_warn_with_a_warning_of_ours():
    assert issubclass(intake_webcoos.MalformedRecordsWarning, UserWarning)
    assert not issubclass(intake_webcoos.MalformedRecordsWarning, intake_webcoos.WebcoosError)


#: A ServerError caused by a dropped connection, pickled plainly and as dask.distributed
#: does (tblib's support installed for the error and its causes, distributed/core.py).
CHAINED = """
import json, pickle
import aiohttp
from tblib import pickling_support
from intake_webcoos.errors import ServerError
try:
    raise ServerError("http://h/x.jpg", None, 3, "ServerDisconnectedError") \\
        from aiohttp.ServerDisconnectedError()
except ServerError as exc:
    error = exc
plain = pickle.loads(pickle.dumps(error))
pickling_support.install(error, error.__cause__)
carried = pickle.loads(pickle.dumps(error))
print(json.dumps({"same": [(str(e), e.args, vars(e)) == (str(error), error.args, vars(error))
                           for e in (plain, carried)],
                  "causes": [repr(e.__cause__) for e in (plain, carried)]}))
"""


def test_a_chained_error_pickles_and_dask_keeps_its_cause():
    """The pickling helper leaves ``__cause__`` to tblib, which dask.distributed uses."""
    outcome = json.loads(fresh_python(CHAINED))
    assert outcome["same"] == [True, True]
    assert outcome["causes"] == ["None", "ServerDisconnectedError('Server disconnected')"]
