"""The stand-in's camera catalog: real WebCOOS cameras, products and ids.

Slugs, labels, coordinates, timezones, groups, dispositions and the product
lists are the real ones (see ``webcoos-api-notes.md``, sections 3.3, 3.4 and
4.2), and so are the states and IOOS regions (section 4.7).  Madeira Beach has
none, as in older payloads, because its region is uncertain: the Gulf coast of
Florida lies in both SECOORA's and GCOOS's areas.  UUIDs are the real ones
where a public payload shows them; the others are derived deterministically
(``uuid5``) so every run serves the same ids.  Cadences are what the notes
report for each product; the exact timing of real files is not public, so
jitter and offsets are chosen here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

#: Namespace for the uuids the stand-in makes up (any fixed uuid would do).
STANDIN_NAMESPACE = uuid.UUID("5f3c8a52-7e1b-4d8e-9a57-2b9c0b1e6a10")


def made_up_uuid(*parts: str) -> str:
    """A stable uuid for an object the real payloads do not show."""
    return str(uuid.uuid5(STANDIN_NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class ProductKind:
    """How the elements of one kind of product are laid out in time and on disk.

    Attributes
    ----------
    extension : str
        File extension of the elements (``""`` for streaming-only products).
    cadence : int
        Seconds between consecutive elements.
    offset : int
        Seconds after the start of the daylight window of the first element.
    jitter : int
        Up to this many seconds are added to each element's start.
    keep : float
        Fraction of the cadence slots that hold an element (sparse products).
    nominal_size : int
        Typical file size in bytes for products whose files are not rendered
        (``0`` for rendered JPEG products, whose sizes follow the frame size).
    duration : float or None
        ``properties.duration`` of each element (seconds for video).
    has_end : bool
        Whether elements carry an end time (result products do).
    frequency : str or None
        ISO-8601 ``frequency.value`` of the service.
    service_label : str or None
        Label of the S3 service (free text in the real API).
    """

    extension: str
    cadence: int = 60
    offset: int = 0
    jitter: int = 0
    keep: float = 1.0
    nominal_size: int = 0
    duration: float | None = None
    has_end: bool = False
    frequency: str | None = None
    service_label: str | None = None

    @property
    def is_image(self) -> bool:
        return self.extension == "jpg"


PRODUCT_KINDS: dict[str, ProductKind] = {
    "one-minute-stills": ProductKind(
        "jpg", cadence=60, offset=0, jitter=6, frequency="PT1M", service_label="image-gallery"
    ),
    "10-minute-stills": ProductKind(
        "jpg", cadence=600, offset=180, service_label="10-minute-stills"
    ),
    "image-stills": ProductKind("jpg", cadence=1800, offset=0, jitter=2),
    "annotated-image": ProductKind("jpg", cadence=300, offset=37, jitter=20),
    "video-archive": ProductKind(
        "mp4",
        cadence=600,
        offset=292,
        jitter=15,
        nominal_size=85_000_000,
        duration=600.0,
        frequency="PT10M",
        service_label="video-gallery",
    ),
    "object-detection-results": ProductKind(
        "json", cadence=300, offset=61, jitter=20, nominal_size=880, has_end=True
    ),
    "rip-detection-results": ProductKind(
        "jsonl", cadence=1800, offset=75, jitter=30, keep=0.5, nominal_size=800, has_end=True
    ),
    "seal-detection-results": ProductKind(
        "json", cadence=900, offset=44, jitter=30, keep=0.7, nominal_size=850, has_end=True
    ),
    "video-streams": ProductKind(""),
}


@dataclass(frozen=True)
class ProductSpec:
    """One product of a camera and the ids of its services."""

    slug: str
    uuid: str
    service_uuid: str | None
    stream_uuid: str | None = None
    #: ``"dashed"`` (``asset-YYYY-MM-DD-HHMMSSZ.ext``) or ``"colons"``
    #: (``asset_YYYY-MM-DD_HH:MM:SSZ.ext``, as stevens_hoboken names its stills).
    filename_style: str = "dashed"

    @property
    def kind(self) -> ProductKind:
        return PRODUCT_KINDS[self.slug]


@dataclass(frozen=True)
class CameraSpec:
    """One camera (asset) of the stand-in."""

    slug: str
    label: str
    latitude: float
    longitude: float
    timezone: str
    group: str
    uuid: str
    products: tuple[ProductSpec, ...]
    disposition: str = "up"
    feed_uuid: str = ""
    package_uuid: str = ""
    has_wedge: bool = True
    #: ``properties.state_or_territory`` and ``properties.region`` (newer payloads
    #: only); None leaves them out, as for a camera whose values are not known.
    state: str | None = None
    region: str | None = None
    #: Legacy archives (Surfline/WebCAT) live in another bucket.
    bucket: str = "webcoos"
    #: Archived cameras keep data ending here instead of at the span's end.
    data_end: str | None = None
    #: Whole UTC days without data, counted back from the end of the data
    #: (1 = the last day), as when a camera is down.
    outage_days: tuple[int, ...] = ()


def _products(asset: str, *slugs: str, known: dict[str, tuple[str, str | None]] | None = None,
              stream_with: str | None = None) -> tuple[ProductSpec, ...]:
    """Product specs for ``slugs``; ``known`` maps slug -> (product uuid, service uuid)."""
    known = known or {}
    specs = []
    for slug in slugs:
        product_uuid, service_uuid = known.get(slug, (None, None))
        product_uuid = product_uuid or made_up_uuid(asset, slug)
        if slug == "video-streams":
            stream = service_uuid or made_up_uuid(asset, slug, "streams")
            specs.append(ProductSpec(slug, product_uuid, None, stream_uuid=stream))
            continue
        service_uuid = service_uuid or made_up_uuid(asset, slug, "s3")
        stream_uuid = made_up_uuid(asset, slug, "streams") if slug == stream_with else None
        specs.append(ProductSpec(slug, product_uuid, service_uuid, stream_uuid=stream_uuid))
    return tuple(specs)


CAMERAS: tuple[CameraSpec, ...] = (
    CameraSpec(
        "waikiki_sheraton", "Beachfront, Waikiki, HI", 21.276763, -157.83024, "US/Hawaii", "uh",
        "11126b71-20aa-446f-b755-862d4d80f5c8",
        _products(
            "waikiki_sheraton", "one-minute-stills", "video-archive", "video-streams",
            known={
                "one-minute-stills": ("bbd626e6-0ada-42ee-a9f0-fd19c02dda40",
                                      "6d540882-750e-4de6-afce-e1b660f17cbc"),
                "video-archive": ("85f08351-5632-4226-8209-a726ebae565f",
                                  "f5fea653-6867-48f0-b582-781509506edd"),
                "video-streams": ("88ed3688-4be9-4eba-b98e-fe9f846202b0",
                                  "3469764f-85f7-4a80-947a-8f6b6bec342e"),
            },
        ),
        feed_uuid="8ae01f96-e09f-4f08-b139-313d7499257c",
        package_uuid="015343f0-11c5-4c07-86bc-f1e75cfdc5c4",
        state="HI", region="PACIOOS",
    ),
    CameraSpec(
        "currituck_hampton_inn", "Beachfront from Hampton Inn, Corolla, NC", 36.259, -75.785,
        "America/New_York", "noaa", "4e86f44e-3fc5-4e1a-b886-3664c6a44279",
        _products(
            "currituck_hampton_inn", "annotated-image", "object-detection-results",
            "one-minute-stills", "rip-detection-results", "video-archive", "video-streams",
            known={"one-minute-stills": (None, "b7114ae2-b2cb-40fe-af33-820db2db7755")},
        ),
        package_uuid="ea62c5ab-e8bd-43af-802a-9ed26c385ca7",
        state="NC", region="SECOORA",
    ),
    CameraSpec(
        "walton_lighthouse", "Walton Lighthouse, Santa Cruz, CA", 36.960695, -122.0022,
        "America/Los_Angeles", "ucsc", "8c184fe4-cd69-4960-bf12-9d5719a25e01",
        _products(
            "walton_lighthouse", "annotated-image", "object-detection-results",
            "one-minute-stills", "rip-detection-results", "video-archive", "video-streams",
            known={
                "annotated-image": ("6346b062-16b7-4476-8e82-a8b5c14301e5",
                                    "f2a7d9af-f032-4caa-91ba-f37daa2bd9dc"),
                "object-detection-results": ("55ce07ff-2b5d-4590-93e7-0e3386b887a4",
                                             "5939ceb8-103f-4218-a430-fae948c9592a"),
                "one-minute-stills": ("4c256469-ca4a-4fa9-8433-a2c598e4eb3a",
                                      "5900cae6-36a6-4f39-adf9-5660ff5e97e5"),
                "rip-detection-results": ("c9ee9079-1f3b-41e5-b660-402d5e94908a",
                                          "c06a5138-1748-4933-ad93-c18dbbe44be5"),
                "video-archive": ("721983ea-1681-4204-8af0-7040113be0f5",
                                  "f33cd48f-c9b8-450a-82f2-0a2c25a8fcce"),
                "video-streams": ("be6c37be-5a25-447f-bd11-d5c3a33bb2e8",
                                  "1ba24b95-fd96-4d25-bcd8-ad45445950bb"),
            },
        ),
        feed_uuid="f870e04e-9620-42ee-9af4-389bd91c0b21",
        package_uuid="3011e50a-a42d-4f06-8ff1-d92ef368652a",
        has_wedge=False,
        state="CA", region="CeNCOOS",
    ),
    CameraSpec(
        "stevens_hoboken", "Hoboken Terminal (north view), Hoboken, NJ", 40.735194, -74.027722,
        "America/New_York", "maracoos", "f7de978a-3446-47c8-950d-313b8429b65e",
        (
            ProductSpec(
                "10-minute-stills", "a0a69b9e-2480-4873-ac52-96b09d7f2101",
                "80b23d0f-32b7-4e96-b874-6be5aac77d64", filename_style="colons",
            ),
        ),
        package_uuid="e9462d5c-c357-4dc1-be16-31e36d2531a9",
        state="NJ", region="MARACOOS",
    ),
    CameraSpec(
        "buxtoncoastalcam", "Beachfront, Buxton, NC", 35.265, -75.5182, "America/New_York",
        "surfline", "b4264232-13cf-48a7-afce-02481ff220e7",
        _products(
            "buxtoncoastalcam", "video-archive",
            known={"video-archive": ("5145f94e-2d47-4e7c-9ed5-0e35ea92c482",
                                     "f6f31cc0-5f73-419d-9e0d-398d44a3ac8d")},
        ),
        feed_uuid="7202036f-efb7-442a-8925-1caa8dbc1151",
        package_uuid="e1225d2e-2c18-4b40-9b96-512fe5f7331c",
        disposition="archived",
        bucket="surfline",
        data_end="2021-01-04T02:00:00Z",
        state="NC", region="SECOORA",
    ),
    CameraSpec(
        "tmmc_prls", "Point Reyes National Seashore, Point Reyes, CA", 37.9941, -122.9736,
        "US/Pacific", "noaa", made_up_uuid("tmmc_prls"),
        _products(
            "tmmc_prls", "annotated-image", "one-minute-stills", "seal-detection-results",
            "video-archive", "video-streams",
        ),
        state="CA", region="CeNCOOS",
    ),
    CameraSpec(
        "madeira_beach_camera_1", "Madeira Beach, FL USGS CoastCam Camera 1", 27.7962, -82.7961,
        "America/New_York", "usgs", made_up_uuid("madeira_beach_camera_1"),
        _products("madeira_beach_camera_1", "image-stills"),
    ),
    CameraSpec(
        "kasitsna_dock", "Kasitsna Bay Laboratory Dock (Seldovia, AK)", 59.4684, -151.5525,
        "America/Anchorage", "aoos", made_up_uuid("kasitsna_dock"),
        _products("kasitsna_dock", "one-minute-stills", "video-archive", "video-streams"),
        state="AK", region="AOOS",
    ),
    CameraSpec(
        "westerly", "Westerly Town Beach, west view (Westerly, RI)", 41.325, -71.791,
        "America/New_York", "neracoos", made_up_uuid("westerly"),
        # Real: westerly's video-archive product holds a StreamingService next to its S3 one.
        _products("westerly", "one-minute-stills", "video-archive", stream_with="video-archive"),
        disposition="abnormal",
        outage_days=(4,),
        state="RI", region="NERACOOS",
    ),
)
