"""Benchmarks of anon-consistent against Orthanc's native anonymizer and dicognito (make bench)."""
