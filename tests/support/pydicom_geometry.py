"""Geometry of DICOM images computed with pydicom, independently of ITK and of our reader.

Usage: pydicom_geometry.py PATH...  (each PATH a file or a folder holding one series)
Prints one JSON object: {PATH: {"size", "spacing", "origin", "direction"}} with the direction
column-major (row cosines, column cosines, slice normal), in LPS millimetres. Slices are sorted
along the normal; a stack with uneven gaps or sheared positions (gantry tilt) is described on the
regular orthogonal grid it resamples to: median gap, normal = row x column.
"""
import json
import os
import sys
import warnings

import numpy as np
import pydicom

warnings.simplefilter("ignore")


def first_item(dataset, keyword):
    sequence = dataset.get(keyword)
    return sequence[0] if sequence else None


def plane(ds):
    """Row and column cosines and in-plane spacing, from the top level or functional groups."""
    orientation = ds.get("ImageOrientationPatient")
    pixel_spacing = ds.get("PixelSpacing")
    shared = first_item(ds, "SharedFunctionalGroupsSequence")
    if shared is not None:
        orientation = orientation or first_item(shared, "PlaneOrientationSequence").ImageOrientationPatient
        pixel_spacing = pixel_spacing or first_item(shared, "PixelMeasuresSequence").PixelSpacing
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


def geometry(path):
    files = sorted(os.path.join(path, f) for f in os.listdir(path)) if os.path.isdir(path) else [path]
    datasets = [pydicom.dcmread(f) for f in files]
    row, column, (row_spacing, column_spacing) = plane(datasets[0])
    normal = np.cross(row, column)
    points = sorted((p for ds in datasets for p in positions(ds)), key=lambda p: float(p @ normal))
    along = [float((p - points[0]) @ normal) for p in points]
    if len(points) > 1:
        gaps = np.diff(along)
        step = float(np.median(gaps))
        count = int(round(along[-1] / step)) + 1
    else:
        step = float(datasets[0].get("SliceThickness") or 1)
        count = 1
    return {
        "size": [int(datasets[0].Columns), int(datasets[0].Rows), count],
        "spacing": [column_spacing, row_spacing, step],
        "origin": [float(v) for v in points[0]],
        "direction": [float(v) for v in (*row, *column, *normal)],
    }


def describe(path):
    try:
        return geometry(path)
    except Exception as error:  # pydicom refuses some odd samples: say so, the test skips those
        return {"error": f"{type(error).__name__}: {error}"}


if __name__ == "__main__":
    print(json.dumps({path: describe(path) for path in sys.argv[1:]}))
