"""Model files: one JSON document with a format version, the booster and what scoring needs, and a SHA-256
checksum of all of it. Written atomically (a temporary file renamed into place); a file of another format
version, or whose checksum does not match, is refused with a clear error and never half-used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
from django.conf import settings
from django.utils.translation import gettext as _

from xiaodai.scoring.exceptions import ModelFileError
from xiaodai.scoring.frame import Feature

FORMAT = "xiaodai-model/1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def model_root() -> Path:
    """XIAODAI_MODEL_DIR, else <VAR_DIR>/models."""
    configured = os.environ.get("XIAODAI_MODEL_DIR", "").strip()
    return Path(configured) if configured else Path(settings.VAR_DIR) / "models"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise ModelFileError(
            _(
                "A model name is 1-64 letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )
        )
    return name


def path_for(name: str, version: int) -> Path:
    return model_root() / check_name(name) / f"v{int(version)}.json"


@dataclass
class Loaded:
    """A model file's contents, checked."""

    booster: lgb.Booster
    features: list[Feature]
    categories: dict[str, list[str]]
    meta: dict[str, Any]


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def write(
    path: Path,
    booster: lgb.Booster,
    features: list[Feature],
    categories: dict[str, list[str]],
    meta: dict[str, Any],
) -> str:
    """Write the file atomically; returns its checksum (the registry keeps it too)."""
    body = {
        "format": FORMAT,
        "features": [f.as_dict() for f in features],
        "categories": categories,
        "meta": meta,
        "booster": booster.model_to_string(),
    }
    checksum = _digest(body)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({**body, "checksum": checksum}, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return checksum


def read(path: Path, expected_checksum: str | None = None) -> Loaded:
    """Load and verify a model file; any mismatch raises ModelFileError naming the file and the problem."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(_("Model file %(path)s does not exist.") % {"path": path}) from exc
    except (OSError, ValueError) as exc:
        raise ModelFileError(
            _("Model file %(path)s cannot be read: %(err)s") % {"path": path, "err": exc}
        ) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise ModelFileError(
            _("Model file %(path)s has format %(found)s; this version of xiaodai reads %(format)s.")
            % {"path": path, "found": found or "?", "format": FORMAT}
        )
    stored = doc.pop("checksum", None)
    if stored != _digest(doc) or (expected_checksum is not None and stored != expected_checksum):
        raise ModelFileError(
            _("Model file %(path)s does not match its checksum: it was altered or damaged.") % {"path": path}
        )
    features = [Feature(f["name"], f["kind"], f["origin"], f.get("description", "")) for f in doc["features"]]
    booster = lgb.Booster(model_str=doc["booster"])
    return Loaded(booster, features, doc["categories"], doc["meta"])
