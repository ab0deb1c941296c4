"""Detection-result files for the stand-in's ``*-detection-results`` products.

Fields follow the outputs of WebCOOS's public detection services
(``WebCOOS/rip_current_detection``, ``WebCOOS/webcoos_object_detection``) as the
research notes record them: ``time``, ``annotated_image_url``,
``original_image_reference`` and ``classification_result`` with
``classification_model_framework``, ``classification_model_name``,
``classification_model_version``, ``detected``, ``detection_count``,
``classification_scores`` (``[{class: score}]``) and ``classification_bboxes``
(``[[{x, y}, {x, y}]]``).  Model names, class names for object detection, and
how often something is detected are made up here.  Contents are deterministic
from (service, time); rip results are JSON Lines, the others one JSON object.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from intake_webcoos.server.archive import Service, stable_seed

CLASSES = {
    "rip-detection-results": ("rip",),
    "object-detection-results": ("person", "surfer", "boat", "dog"),
    "seal-detection-results": ("seal",),
}


def result_record(service: Service, epoch: int, image_url: str) -> dict:
    """The inference record of ``service`` at ``epoch`` (deterministic)."""
    rng = np.random.default_rng(stable_seed(service.slug, epoch, "result"))
    classes = CLASSES.get(service.product.slug, ("object",))
    count = int(rng.integers(1, 4)) if rng.random() < 0.4 else 0
    scores, boxes = [], []
    for _ in range(count):
        x, y = rng.uniform(0, 1200), rng.uniform(200, 600)
        w, h = rng.uniform(20, 300), rng.uniform(20, 150)
        scores.append({str(rng.choice(classes)): round(float(rng.uniform(0.3, 0.99)), 3)})
        boxes.append([{"x": round(x, 1), "y": round(y, 1)},
                      {"x": round(x + w, 1), "y": round(y + h, 1)}])
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "time": stamp,
        "annotated_image_url": image_url.replace("-results/", "-annotated/"),
        "original_image_reference": image_url,
        "classification_result": {
            "classification_model_framework": "torchvision",
            "classification_model_name": f"standin-{service.product.slug.split('-')[0]}",
            "classification_model_version": "1",
            "detected": count > 0,
            "detection_count": count,
            "classification_scores": scores,
            "classification_bboxes": boxes,
        },
    }


def result_bytes(service: Service, epoch: int) -> bytes:
    """The file served for a result element (JSON, or one JSON line for ``.jsonl``)."""
    url = service.element_url(epoch).rsplit(".", 1)[0] + ".jpg"
    text = json.dumps(result_record(service, epoch, url))
    return (text + "\n").encode() if service.kind.extension == "jsonl" else text.encode()
