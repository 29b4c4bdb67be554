#!/usr/bin/python3
"""Generate the "tiny instance" benchmark workload for tools/bench.sh.

N (default 2000) Secondary Capture Image Storage instances, 64x80 pixels,
16-bit (BitsStored 12), Explicit VR Little Endian: about 10.6 KB each, all in
one study and one series. UIDs are 2.25.<uuid5> values derived from --seed, so
every instance has its own SOP Instance UID and the same seed re-creates
byte-identical files (a new seed gives UIDs never used before).

Needs pydicom (2.x) and numpy; on Debian: apt-get install python3-pydicom
python3-numpy, then run with /usr/bin/python3:

  /usr/bin/python3 tools/benchdata/gen_tiny.py --out build/benchdata/tiny [--count 2000] [--seed tiny-v1]
"""
import argparse
import os
import sys
import time
import uuid

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

SC_SOP = '1.2.840.10008.5.1.4.1.1.7'  # Secondary Capture Image Storage
IMPL_UID = '2.25.92170245046154373402355358218931627370'  # fixed, generator-specific
NS = uuid.UUID('0b7b3a52-31a4-4f0e-8d0c-6b0f4d5b1c77')
ROWS, COLS = 64, 80


def uid(seed, *parts):
    return '2.25.%d' % uuid.uuid5(NS, ':'.join([seed] + [str(p) for p in parts])).int


def instance(seed, i, pixels):
    sop = uid(seed, 'sc', i)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SC_SOP
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPL_UID
    meta.ImplementationVersionName = 'GEN_TINY_1'
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SpecificCharacterSet = 'ISO_IR 100'
    ds.SOPClassUID = SC_SOP
    ds.SOPInstanceUID = sop
    ds.StudyDate = '20240103'
    ds.StudyTime = '090000'
    ds.AccessionNumber = 'TINY0001'
    ds.Modality = 'OT'
    ds.ConversionType = 'WSD'
    ds.Manufacturer = 'SYNTHETIC'
    ds.ReferringPhysicianName = ''
    ds.StudyDescription = 'BENCH TINY'
    ds.SeriesDescription = 'BENCH TINY 64x80'
    ds.PatientName = 'BENCH^TINY'
    ds.PatientID = 'BENCH-0002'
    ds.PatientBirthDate = '19700101'
    ds.PatientSex = 'O'
    ds.StudyInstanceUID = uid(seed, 'study')
    ds.SeriesInstanceUID = uid(seed, 'series')
    ds.StudyID = '1'
    ds.SeriesNumber = '1'
    ds.InstanceNumber = str(i + 1)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.Rows = ROWS
    ds.Columns = COLS
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    return ds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='output folder (created if missing)')
    ap.add_argument('--count', type=int, default=2000)
    ap.add_argument('--seed', default='tiny-v1')
    a = ap.parse_args()
    if a.count < 1:
        sys.exit('gen_tiny: --count must be at least 1')
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(uuid.uuid5(NS, a.seed).int % (2 ** 32))
    ramp = (np.arange(ROWS * COLS, dtype=np.uint16).reshape(ROWS, COLS) * 7) % 4096
    t = time.time()
    for i in range(a.count):
        noise = rng.integers(0, 64, size=(ROWS, COLS), dtype=np.uint16)
        pixels = np.clip(ramp + noise, 0, 4095).astype(np.uint16)
        path = os.path.join(a.out, 'TINY_%05d.dcm' % (i + 1))
        instance(a.seed, i, pixels).save_as(path, write_like_original=False)
    print('TINY: %d files in %s (%.1fs)' % (a.count, a.out, time.time() - t))


if __name__ == '__main__':
    main()
