"""A drop folder: which feed each file is, the optional manifest.json, and the drop's fingerprint.

manifest.json (all keys optional except where the command line gives nothing):
    {"contract_version": "1.0", "source": "core-dw", "data_date": "2026-11-28", "branch_code": "HZ",
     "encoding": "gb18030", "files": {"loans.csv": {"rows": 1200, "sums": {"amount": "12345678.00"}}}}
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from xiaodai.ingest.contract import COMPATIBLE_VERSIONS, CONTRACT_VERSION, FEEDS, FORMATS, Target, load_order
from xiaodai.ingest.exceptions import IngestError
from xiaodai.ingest.readers import sha256_of

MANIFEST = "manifest.json"
COMPLETE_FLAG = "_SUCCESS"  # an empty flag file the delivering scheduler writes last (landing.py)
_SOURCE = re.compile(r"[A-Za-z0-9_.:\-]{1,50}")
_ENCODINGS = {"utf-8", "utf-8-sig", "gbk", "gb2312", "gb18030"}


@dataclass(frozen=True)
class DropFile:
    feed: str
    path: Path
    format: str  # csv | xlsx | parquet
    sha256: str
    size: int
    control: dict[str, Any]  # {"rows": n, "sums": {...}} from the manifest, or {}


@dataclass(frozen=True)
class Drop:
    folder: Path
    source: str
    data_date: date
    branch_code: str | None
    encoding: str | None
    files: list[DropFile]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def lake_feeds(self) -> list[str]:
        return [f.feed for f in self.files if FEEDS[f.feed].target is Target.LAKE]

    @cached_property
    def estimated_rows(self) -> int:
        return sum(_estimate_rows(f) for f in self.files)


def scan(folder: Path, *, source: str | None, data_date: date | None, encoding: str | None) -> Drop:
    """Read the folder and its manifest; raise IngestError for anything that makes the drop unusable."""
    if not folder.is_dir():
        raise IngestError("no_folder", f"{folder} is not a folder")
    manifest = _manifest(folder)
    version = str(manifest.get("contract_version", CONTRACT_VERSION))
    if version not in COMPATIBLE_VERSIONS:
        raise IngestError(
            "contract_version",
            f"the drop follows contract {version}; this installation reads {CONTRACT_VERSION}",
        )
    source = source or manifest.get("source") or "dw"
    if not _SOURCE.fullmatch(str(source)):
        raise IngestError("source", "a source is 1-50 letters, digits, and . _ : -")
    day = data_date or _date(manifest.get("data_date")) or _date_from_name(folder.name)
    if day is None:
        raise IngestError("data_date", "no data date: give --date, or data_date in manifest.json")
    encoding = encoding or manifest.get("encoding")
    if encoding is not None and str(encoding).lower() not in _ENCODINGS:
        raise IngestError("encoding", f"encoding {encoding} is not supported; use utf-8 or gb18030 (gbk)")
    controls = manifest.get("files", {})
    if not isinstance(controls, dict):
        raise IngestError("manifest", "manifest.json: files must be an object keyed by file name")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name in (MANIFEST, COMPLETE_FLAG) or path.name.startswith("."):  # .ok flags start with a dot
            continue
        feed, suffix = path.stem, path.suffix.lower()
        if suffix not in FORMATS or feed not in FEEDS:
            known = ", ".join(FEEDS)
            raise IngestError(
                "unknown_file",
                f"{path.name}: not a feed of the contract "
                f"(name it <feed>.csv/.xlsx/.parquet; feeds: {known})",
            )
        if feed in found:
            raise IngestError("two_files", f"two files for feed {feed}: {found[feed].name} and {path.name}")
        found[feed] = path
    if not found:
        raise IngestError("empty_drop", f"{folder} holds no files of the contract")
    for name in controls:
        if name not in {p.name for p in found.values()}:
            raise IngestError("manifest", f"manifest.json lists {name}, which is not in the folder")
    files = [
        DropFile(
            feed=feed.name,
            path=found[feed.name],
            format=found[feed.name].suffix.lower().lstrip("."),
            sha256=sha256_of(found[feed.name]),
            size=found[feed.name].stat().st_size,
            control=dict(controls.get(found[feed.name].name, {})),
        )
        for feed in load_order(set(found))
    ]
    return Drop(folder, str(source), day, manifest.get("branch_code"), encoding, files, manifest)


def fingerprint(drop: Drop) -> str:
    """Equal for byte-identical drops: what makes a second run of the same drop a duplicate."""
    digest = hashlib.sha256()
    for f in drop.files:
        digest.update(f"{f.path.name}:{f.sha256}\n".encode())
    digest.update(json.dumps(drop.manifest, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError("manifest", f"manifest.json is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise IngestError("manifest", "manifest.json must hold one JSON object")
    return data


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise IngestError("data_date", f"data_date {value} is not a date (YYYY-MM-DD)") from None


def _date_from_name(name: str) -> date | None:
    match = re.fullmatch(r".*?(\d{4})-?(\d{2})-?(\d{2})", name)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _estimate_rows(f: DropFile) -> int:
    """Rows to expect, for the progress bar: the manifest's count, else line breaks, else Parquet metadata."""
    if "rows" in f.control:
        return int(f.control["rows"])
    if f.format == "csv":
        count = 0
        with f.path.open("rb") as handle:
            while block := handle.read(1 << 20):
                count += block.count(b"\n")
        return max(count - 1, 0)
    if f.format == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(f.path).metadata.num_rows)
    return 0
