"""Find billing-export deliveries in files, export folders or whole bucket-style trees.

Two layouts are recognised (AWS Data Exports and legacy CUR user guides):

- CUR 2.0 and FOCUS: ``<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<parts>`` with the manifest at
  ``<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json``;
- legacy CUR: ``<prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz`` with
  ``<report>-Manifest.json`` in the period folder (naming the current assembly) and in the assembly folder.

A manifest lists the delivery's files. Data files in a layout folder without a manifest form one
delivery per folder, and any other data file is a delivery of its own. JSON files are metadata and
never read as rows. The layout only groups files: each file's format is detected from its contents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..observability import logger

DATA_SUFFIXES = (".csv", ".csv.gz", ".csv.zip", ".zip", ".gz", ".parquet")
_PERIOD_FOLDER = re.compile(r"^BILLING_PERIOD=(\d{4}-\d{2})$")
_LEGACY_RANGE = re.compile(r"^(\d{4})(\d{2})\d{2}-\d{8}$")
_EXPORT_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Delivery:
    """One delivery of one export: the files that together replace a billing period's data.

    ``delivery_id`` is the manifest's assembly or execution id, or a content hash of the files when
    there is no manifest. ``delivered_at`` orders deliveries of the same export and period: an older
    delivery never replaces a newer one. ``billing_period`` ('YYYY-MM') is a hint from the layout or
    manifest; rows carry their own billing period.
    """

    export_id: str
    delivery_id: str
    files: tuple[Path, ...]
    manifest: Path | None = None
    billing_period: str | None = None
    delivered_at: dt.datetime | None = None


def is_data_file(path: Path) -> bool:
    """Return True for files that may hold billing rows (by name); manifests and other JSON are not."""
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(DATA_SUFFIXES)


def sanitize_export_id(value: str) -> str:
    """Return an export id usable as a partition value (letters, digits, '.', '_' and '-')."""
    cleaned = _EXPORT_ID_CHARS.sub("-", value).strip("-.")
    return cleaned or "export"


def _mtime(paths: Iterable[Path]) -> dt.datetime | None:
    times = [path.stat().st_mtime for path in paths]
    return dt.datetime.fromtimestamp(max(times), tz=dt.UTC) if times else None


def content_hash(files: Sequence[Path]) -> str:
    """Return a SHA-256 over the files' names and bytes, used as delivery id when there is no manifest."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda item: item.name):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return "sha256-" + digest.hexdigest()[:32]


def _layout_of(path: Path) -> tuple[str | None, str | None]:
    """Return (export name, billing period) implied by a data file's folders, or (None, None)."""
    parts = path.parts
    for index in range(len(parts) - 2, 0, -1):
        period = _PERIOD_FOLDER.match(parts[index])
        if period and index >= 2 and parts[index - 1] == "data":
            return parts[index - 2], period.group(1)
        legacy = _LEGACY_RANGE.match(parts[index])
        if legacy and index >= 1:
            return parts[index - 1], f"{legacy.group(1)}-{legacy.group(2)}"
    return None, None


def _period_from_manifest(data: dict[str, object]) -> str | None:
    period = data.get("billingPeriod")
    if isinstance(period, dict):
        start = str(period.get("start", ""))
        digits = re.sub(r"[^0-9]", "", start)
        if len(digits) >= 6:
            return f"{digits[:4]}-{digits[4:6]}"
    return None


def _resolve_reference(manifest: Path, reference: str) -> Path | None:
    """Find the local copy of a file a manifest names by S3 URI or key.

    The longest tail of the key that exists below one of the manifest's ancestor folders wins, so
    a bucket mirrored at any depth resolves.
    """
    key = re.sub(r"^s3://[^/]+/", "", reference).strip("/")
    parts = [part for part in key.split("/") if part]
    for start in range(len(parts)):
        tail = parts[start:]
        for base in manifest.parents:
            candidate = base.joinpath(*tail)
            if candidate.is_file():
                return candidate
            if base == base.parent:
                break
    return None


def read_manifest(manifest: Path) -> Delivery:
    """Build the delivery a manifest describes; raise InputError when it is unreadable or incomplete."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable manifest: {error}", source=str(manifest)) from error
    if not isinstance(data, dict):
        raise InputError("manifest is not a JSON object", source=str(manifest))

    references = data.get("dataFiles") or data.get("reportKeys") or []
    if not isinstance(references, list) or not references:
        raise InputError("manifest lists no data files (expected 'dataFiles' or 'reportKeys')", source=str(manifest))
    files: list[Path] = []
    for reference in references:
        local = _resolve_reference(manifest, str(reference))
        if local is None:
            raise InputError(
                f"data file {reference} named by the manifest was not found below the manifest's folders; "
                "copy the whole delivery before ingesting it",
                source=str(manifest),
            )
        files.append(local)

    name = manifest.name.removesuffix("-Manifest.json").removesuffix("Manifest.json") or manifest.parent.name
    export = str(data.get("exportName") or data.get("reportName") or name)
    delivery_id = str(data.get("executionId") or data.get("assemblyId") or content_hash(files))
    layout_export, layout_period = _layout_of(manifest)
    period = _period_from_manifest(data)
    if period is None:
        folder = _PERIOD_FOLDER.match(manifest.parent.name)
        period = folder.group(1) if folder else layout_period
    return Delivery(
        export_id=sanitize_export_id(export or layout_export or "export"),
        delivery_id=sanitize_export_id(delivery_id),
        files=tuple(files),
        manifest=manifest,
        billing_period=period,
        delivered_at=_mtime([manifest]),
    )


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".zip", ".parquet", ".snappy", ".csv"):
        name = name.removesuffix(suffix)
    return name


def _loose_delivery(group: Sequence[Path], export: str | None, period: str | None) -> Delivery:
    return Delivery(
        export_id=sanitize_export_id(export or _stem(group[0])),
        delivery_id=content_hash(group),
        files=tuple(sorted(group)),
        manifest=None,
        billing_period=period,
        delivered_at=_mtime(group),
    )


def _is_assembly_manifest(manifest: Path) -> bool:
    return _LEGACY_RANGE.match(manifest.parent.parent.name) is not None


def _hidden(path: Path, root: Path) -> bool:
    """Return True for files below a folder whose name starts with '.', such as the default lake ``.finops``."""
    return any(part.startswith(".") for part in path.relative_to(root).parts[:-1])


def _scan_folder(root: Path) -> list[Delivery]:
    manifests = sorted(path for path in root.rglob("*Manifest.json") if path.is_file() and not _hidden(path, root))
    # A legacy period folder's manifest names the current assembly; the assembly folders' own
    # manifests are then redundant, and older assemblies are superseded.
    period_level = {path.parent for path in manifests if _LEGACY_RANGE.match(path.parent.name)}
    deliveries: list[Delivery] = []
    claimed: set[Path] = set()
    for manifest in manifests:
        if _is_assembly_manifest(manifest) and manifest.parent.parent in period_level:
            claimed.update(path for path in manifest.parent.rglob("*") if is_data_file(path))
            continue
        delivery = read_manifest(manifest)
        deliveries.append(delivery)
        claimed.update(delivery.files)

    groups: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path in claimed or _hidden(path, root):
            continue
        if not is_data_file(path):
            if path.suffix.lower() != ".json" and not path.name.startswith("."):
                logger.info("file skipped: not a billing data file", extra={"path": str(path)})
            continue
        export, period = _layout_of(path)
        if export is None:
            deliveries.append(_loose_delivery([path], None, None))
        else:
            groups.setdefault(path.parent, []).append(path)
    for files in groups.values():
        export, period = _layout_of(files[0])
        deliveries.append(_loose_delivery(files, export, period))
    return deliveries


def discover_deliveries(paths: Sequence[Path]) -> list[Delivery]:
    """Find every delivery in the given files and folders, oldest first within each export and period.

    Raise InputError for a path that does not exist or a manifest that is unreadable or names a
    missing file.
    """
    deliveries: list[Delivery] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            deliveries.extend(_scan_folder(path))
        elif path.is_file():
            if path.name.endswith("Manifest.json"):
                deliveries.append(read_manifest(path))
            elif path.suffix.lower() == ".json":
                raise InputError("is a metadata JSON file, not billing data; pass its export folder", source=str(path))
            else:
                export, period = _layout_of(path)
                deliveries.append(_loose_delivery([path], export, period))
        else:
            raise InputError("no such file or folder", source=str(path))

    unique: dict[tuple[str, str], Delivery] = {}
    for delivery in deliveries:
        unique.setdefault((delivery.export_id, delivery.delivery_id), delivery)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(
        unique.values(),
        key=lambda item: (item.export_id, item.billing_period or "", item.delivered_at or epoch, item.delivery_id),
    )
