"""anon-consistent: consistent DICOM anonymization for Orthanc.

The package is split in two. Everything at this level (UID policy, UID
generation, the PS3.15 profile table, the dataset rewriter, the mapping store)
is pure Python + pydicom and never imports ``orthanc``, so it is unit-tested
without a server. ``anon_consistent.adapter`` is the thin layer that receives
the ``orthanc`` module by injection and turns REST requests into engine calls.
"""

__version__ = "0.1.0"
