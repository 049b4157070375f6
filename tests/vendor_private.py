"""An MR image carrying GE, Siemens and Philips private blocks, some safe and some not.

Safe means listed in PS3.15 Table E.3.10-1 (``profile/ps315_table_e3_10_1.json``) under the
Private Creator of the element's block. Blocks are placed where real files may put them, not
only at (gggg,0010): GE's GEMS_PARM_01 at (0043,0012) puts the b-value at 0043,1239, and
Philips MR Imaging DD 001 at (2005,0011) puts scale slope and intercept at 2005,110E/110D,
while other creators hold the default positions with values that must not be kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from tests.dicom_data import read


@dataclass(frozen=True)
class PrivateElement:
    """One private element as written in the instance, and what Table E.3.10-1 says of it."""

    tag: int
    creator: str
    creator_tag: int
    vr: str
    safe: bool
    note: str


@dataclass(frozen=True)
class VendorMR:
    """The instance, its private elements, and the identifying values some of them carry."""

    dataset: Dataset
    elements: tuple[PrivateElement, ...]
    identifying: tuple[str, ...]

    @property
    def safe(self) -> tuple[PrivateElement, ...]:
        return tuple(e for e in self.elements if e.safe)

    @property
    def unsafe(self) -> tuple[PrivateElement, ...]:
        return tuple(e for e in self.elements if not e.safe)

    @property
    def kept_creator_tags(self) -> frozenset[int]:
        """Private Creator elements that reserve a block holding at least one safe element."""
        return frozenset(e.creator_tag for e in self.safe)

    @property
    def removed_creator_tags(self) -> frozenset[int]:
        return frozenset(e.creator_tag for e in self.elements) - self.kept_creator_tags


def csa2(entries: list[tuple[str, str, list[str]]]) -> bytes:
    """A Siemens CSA2 ("SV10") header: entries of (name, VR, values), as syngo writes them."""
    out = bytearray(b"SV10\x04\x03\x02\x01") + struct.pack("<II", len(entries), 77)
    for name, vr, values in entries:
        out += struct.pack("<64si4sIII", name.encode(), len(values), vr.encode(), 0, len(values), 77)
        for value in values:
            data = value.encode() + b"\x00"
            out += struct.pack("<4I", len(data), len(data), 77, len(data))
            out += data + b"\x00" * (-len(data) % 4)
    return bytes(out)


def _layout(name: str, patient_id: str, physician: str) -> list[tuple[int, str, int, str, object, bool, str]]:
    """(creator tag, creator, tag, VR, value, safe per E.3.10-1, note) for every private element."""
    spaced_name = name.replace("^", " ")
    reason = f"Follow-up of {spaced_name} ({patient_id}), ordered by Dr {physician.replace('^', ' ')}: r/o recurrence"
    image_header = csa2([("B_value", "IS", ["1000"]), ("DiffusionGradientDirection", "FD", ["0.57735"] * 3)])
    phoenix = f'### ASCCONV BEGIN ###\ntPatientName = "{name}"\ntPatientID = "{patient_id}"\n### ASCCONV END ###'
    series_header = csa2([("MrPhoenixProtocol", "UN", [phoenix])])
    return [
        (0x00190010, "GEMS_ACQU_01", 0x0019109E, "LO", "epi2", True, "Internal Pulse Sequence Name"),
        (0x00190010, "GEMS_ACQU_01", 0x001910BB, "DS", "0.57735", False, "gradient x: not listed, a site may add it"),
        (0x00190010, "GEMS_ACQU_01", 0x001910BC, "DS", "0.57735", False, "gradient y: not listed, a site may add it"),
        (0x00190010, "GEMS_ACQU_01", 0x001910BD, "DS", "-0.57735", False, "gradient z: not listed, a site may add it"),
        (0x00190011, "SIEMENS MR HEADER", 0x00191108, "CS", "IMAGE NUM 4", False, "CSA Image Header Type: not listed"),
        (0x00190011, "SIEMENS MR HEADER", 0x0019110C, "IS", "1000", True, "B Value"),
        (0x00190011, "SIEMENS MR HEADER", 0x0019110D, "CS", "DIRECTIONAL", True, "Diffusion Directionality"),
        (0x00190011, "SIEMENS MR HEADER", 0x0019110E, "FD", [0.57735, 0.57735, -0.57735], True, "Diffusion direction"),
        (0x00290010, "SIEMENS CSA HEADER", 0x00291008, "CS", "IMAGE NUM 4", False, "CSA Image Header Type"),
        (0x00290010, "SIEMENS CSA HEADER", 0x00291010, "OB", image_header, False, "CSA image header: opaque blob"),
        (0x00290010, "SIEMENS CSA HEADER", 0x00291020, "OB", series_header, False, "CSA series header: patient name"),
        (0x00430010, "SITE PACS 01", 0x00431039, "LO", name, False, "patient name where GE's b-value usually is"),
        (0x00430012, "GEMS_PARM_01", 0x00431239, "IS", [1000, 8, 0, 0], True, "1st value is B Value"),
        (0x00430012, "GEMS_PARM_01", 0x00431262, "SH", f"E{patient_id}", False, "Scanner Study ID with the PatientID"),
        (0x00430012, "GEMS_PARM_01", 0x00431271, "ST", reason, False, "free text: a reason naming patient and doctor"),
        (0x20010010, "Philips Imaging DD 001", 0x20011003, "FL", 1000.0, True, "MR Image Diffusion B-Factor"),
        (0x20010010, "Philips Imaging DD 001", 0x20011004, "CS", "I", True, "MR Image Diffusion Direction"),
        (
            0x20010010,
            "Philips Imaging DD 001",
            0x200110C8,
            "LO",
            f"{physician} DWI",
            False,
            "a label naming the doctor",
        ),
        (0x20050010, "Philips MR Imaging DD 002", 0x2005100D, "FL", 7.0, False, "where DD 001's intercept usually is"),
        (0x20050010, "Philips MR Imaging DD 002", 0x2005100E, "FL", 3.0, False, "where DD 001's slope usually is"),
        (0x20050011, "Philips MR Imaging DD 001", 0x2005110D, "FL", -2.0, True, "Scale Intercept"),
        (0x20050011, "Philips MR Imaging DD 001", 0x2005110E, "FL", 1.25, True, "Scale Slope"),
    ]


def vendor_mr_instance(
    patient_name: str = "DOE^JOHN", patient_id: str = "12345", physician: str = "SMITH^ANNA"
) -> VendorMR:
    """MR_small under fresh UIDs, for ``patient_name``/``patient_id`` referred by ``physician``,
    with the private blocks of ``_layout``: safe diffusion and scaling attributes, and unsafe
    elements carrying the patient's name and ID, the physician's name and a free-text reason."""
    dataset = read("MR_small.dcm")
    dataset.PatientName, dataset.PatientID = patient_name, patient_id
    dataset.ReferringPhysicianName = physician
    dataset.StudyInstanceUID, dataset.SeriesInstanceUID = generate_uid(), generate_uid()
    dataset.SOPInstanceUID, dataset.FrameOfReferenceUID = generate_uid(), generate_uid()
    elements = []
    for creator_tag, creator, tag, vr, value, safe, note in _layout(patient_name, patient_id, physician):
        assert tag >> 16 == creator_tag >> 16 and (tag >> 8) & 0xFF == creator_tag & 0xFF, hex(tag)
        dataset.add_new(creator_tag, "LO", creator)
        dataset.add_new(tag, vr, value)
        elements.append(PrivateElement(tag, creator, creator_tag, vr, safe, note))
    components = [part for part in patient_name.split("^") if part]
    physician_parts = [part for part in physician.split("^") if part]
    identifying = (patient_name, *components, patient_id, physician, *physician_parts)
    return VendorMR(dataset, tuple(elements), identifying)
