"""Geometry of DICOM images computed with pydicom, independently of ITK and of our reader.

Usage: pydicom_geometry.py PATH...    (each PATH a file or a folder holding one series)
       pydicom_geometry.py --series ROOT  (every series of every folder under ROOT)
Prints JSON: for PATHs, {PATH: description}; for --series, a list of {"folder", "files",
"description", "result"}, one per SeriesInstanceUID of a folder's image files.
A description is the grid {"size", "spacing", "origin", "direction"} with the direction
column-major (row cosines, column cosines, slice normal), in LPS millimetres, or what keeps the
images from being one volume: {"mosaic": ImageType} (Siemens mosaic), {"colour": samples per
pixel}, {"volumes": k, "positions": n} (every position repeated k times: a 4D series),
{"repeated": slices at another's position, "slices": n}, {"error": message} where pydicom fails.
Slices are sorted along the normal; a stack with uneven gaps or sheared positions (gantry tilt)
is described on the regular orthogonal grid it resamples to: median gap, normal = row x column.
"""
import json
import os
import sys
import warnings
from collections import Counter

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

warnings.simplefilter("ignore")


def first_item(dataset, keyword):
    sequence = dataset.get(keyword)
    return sequence[0] if sequence else None


def plane(ds):
    """Row and column cosines and in-plane spacing, from the top level or functional groups."""
    orientation = ds.get("ImageOrientationPatient")
    pixel_spacing = ds.get("PixelSpacing")
    for groups in (first_item(ds, "SharedFunctionalGroupsSequence"), first_item(ds, "PerFrameFunctionalGroupsSequence")):
        if groups is None:
            continue
        if not orientation and "PlaneOrientationSequence" in groups:
            orientation = groups.PlaneOrientationSequence[0].ImageOrientationPatient
        if not pixel_spacing and "PixelMeasuresSequence" in groups:
            pixel_spacing = groups.PixelMeasuresSequence[0].PixelSpacing
    orientation = np.array([float(v) for v in orientation]) if orientation else np.array([1.0, 0, 0, 0, 1, 0])
    pixel_spacing = [float(v) for v in pixel_spacing] if pixel_spacing else [1.0, 1.0]
    return orientation[:3], orientation[3:], pixel_spacing


def positions(ds):
    """Positions of every frame of one file."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame:
        return [np.array([float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient]) for f in per_frame]
    origin = np.array([float(v) for v in ds.get("ImagePositionPatient", [0, 0, 0])])
    offsets = ds.get("GridFrameOffsetVector")
    if offsets is not None and int(ds.get("NumberOfFrames", 1)) > 1:
        return [origin + float(o) * np.cross(*plane(ds)[:2]) for o in offsets]
    return [origin]


def geometry(datasets):
    first = datasets[0]
    image_type = [str(v).upper() for v in first.get("ImageType", [])]
    if "MOSAIC" in image_type:
        return {"mosaic": "\\".join(image_type)}
    if int(first.get("SamplesPerPixel", 1)) != 1:
        return {"colour": int(first.SamplesPerPixel)}
    row, column, (row_spacing, column_spacing) = plane(first)
    normal = np.cross(row, column)
    points = [p for ds in datasets for p in positions(ds)]
    # Positions equal to 0.01 mm are one slice position.
    counts = Counter(tuple(int(v) for v in np.round(p * 100)) for p in points)
    if len(counts) < len(points):
        if len(set(counts.values())) == 1:
            return {"volumes": next(iter(counts.values())), "positions": len(counts)}
        return {"repeated": len(points) - len(counts), "slices": len(points)}
    points.sort(key=lambda p: float(p @ normal))
    along = [float((p - points[0]) @ normal) for p in points]
    if len(points) > 1:
        step = float(np.median(np.diff(along)))
        count = int(round(along[-1] / step)) + 1
    else:
        step = float(first.get("SliceThickness") or 1)
        count = 1
    return {
        "size": [int(first.Columns), int(first.Rows), count],
        "spacing": [column_spacing, row_spacing, step],
        "origin": [float(v) for v in points[0]],
        "direction": [float(v) for v in (*row, *column, *normal)],
    }


def describe(datasets):
    try:
        return geometry(datasets)
    except Exception as error:  # pydicom refuses some odd samples: say so, the test skips those
        return {"error": f"{type(error).__name__}: {error}"}


def read(path):
    # The headers are enough (and much faster on large series).
    return pydicom.dcmread(path, stop_before_pixels=True)


def describe_path(path):
    files = sorted(os.path.join(path, f) for f in os.listdir(path)) if os.path.isdir(path) else [path]
    try:
        datasets = [read(f) for f in files]
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
    return describe(datasets)


def series_under(root):
    """Each folder's image files grouped by SeriesInstanceUID, described."""
    found = []
    for folder, _, names in sorted(os.walk(root)):
        groups = {}
        for name in sorted(names):
            path = os.path.join(folder, name)
            try:
                ds = read(path)
            except (InvalidDicomError, EOFError, OSError):
                continue
            if "Rows" in ds and "Columns" in ds:
                groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((path, ds))
        for members in groups.values():
            first = members[0][1]
            found.append(
                {
                    "folder": folder,
                    "files": [path for path, _ in members],
                    "description": str(first.get("SeriesDescription", "")),
                    "result": describe([ds for _, ds in members]),
                }
            )
    return found


if __name__ == "__main__":
    if sys.argv[1:2] == ["--series"]:
        print(json.dumps(series_under(sys.argv[2])))
    else:
        print(json.dumps({path: describe_path(path) for path in sys.argv[1:]}))
