"""Orthanc stores what the research-data builders produce, byte for byte."""

from __future__ import annotations

from pydicom.dataset import Dataset

from tests.dicom_data import encode
from tests.orthanc_server import OrthancServer
from tests.research_data import described_study, pet_series, rtstruct_with_roi_names, vendor_mr_instance


def test_orthanc_stores_every_builder_output_unchanged(orthanc: OrthancServer) -> None:
    study = described_study("DOE^JOHN", "RD-UPLOAD-1")
    ct_series = [ds for ds in study if ds.SeriesInstanceUID == study[-1].SeriesInstanceUID]
    structure_set = rtstruct_with_roi_names(["PTV", "DOE JOHN RD-UPLOAD-1 GTV"], "DOE^JOHN", "RD-UPLOAD-1", ct_series)
    datasets: list[Dataset] = [
        *pet_series(3, patient_id="RD-UPLOAD-1"),
        vendor_mr_instance(patient_id="RD-UPLOAD-1").dataset,
        *study,
        structure_set,
    ]
    for dataset in datasets:
        data = encode(dataset)
        answer = orthanc.upload(data)
        assert answer["Status"] == "Success", dataset.Modality
        assert orthanc.instance_bytes(answer["ID"]) == data
        tags = orthanc.json(f"/instances/{answer['ID']}/simplified-tags")
        assert (tags["SOPClassUID"], tags["PatientID"]) == (dataset.SOPClassUID, "RD-UPLOAD-1")
    patients = [p for p in orthanc.json("/patients?expand") if p["MainDicomTags"]["PatientID"] == "RD-UPLOAD-1"]
    assert len(patients) == 1 and len(patients[0]["Studies"]) == 3  # PET, MR, CT with its RTSTRUCT
