"""Rewrites one DICOM instance: parse, walk, pseudonymize, mark, serialize.

Only elements whose action is not KEEP are converted from pydicom's raw form;
everything else, pixel data included, is written back byte for byte. That is
what keeps the cost per instance proportional to the header, not the image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from pydicom import dcmread
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

from . import __version__
from .dates import shift_da, shift_dt
from .encoder import encode
from .plan import Action, ElementPlan
from .session import MappingSession, PatientIdentity
from .uid_policy import is_registry_uid, keeps_uid_attribute
from .uids import is_valid_uid

# The file is written by us, so PS3.10 wants our implementation's identity in
# the meta, not the original writer's (which can equal an InstanceCreatorUID).
IMPLEMENTATION_CLASS_UID = "2.25.12172323154350808376137170144592877644"
IMPLEMENTATION_VERSION_NAME = ("ANONCONS_" + __version__.replace(".", "_"))[:16]

PATIENT_ID = Tag("PatientID")
PATIENT_NAME = Tag("PatientName")
SOP_INSTANCE_UID = Tag("SOPInstanceUID")

# File meta elements that name the sending/receiving systems.
_META_TO_DROP = tuple(
    Tag(k)
    for k in (
        "SourceApplicationEntityTitle",
        "SendingApplicationEntityTitle",
        "ReceivingApplicationEntityTitle",
        "PrivateInformationCreatorUID",
        "PrivateInformation",
    )
)

_BINARY_NUMBER_VRS: dict[str, type] = {
    "US": int,
    "SS": int,
    "UL": int,
    "SL": int,
    "UV": int,
    "SV": int,
    "FL": float,
    "FD": float,
}

_DUMMY_TEXT = "ANONYMIZED"
_DUMMY_BY_VR: dict[str, object] = {
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "DS": "0",
    "IS": "0",
    "CS": _DUMMY_TEXT,
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "OB": b"\x00\x00",
    "OW": b"\x00\x00",
    "UN": b"\x00\x00",
}

_TRANSFER_SYNTAX_FOR_ENCODING = {
    (True, True): "1.2.840.10008.1.2",
    (False, True): "1.2.840.10008.1.2.1",
    (False, False): "1.2.840.10008.1.2.2",
}

DEIDENTIFICATION_CODES = {
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "shift_dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
}


class InstanceRewriteError(Exception):
    """The instance could not be anonymized; the message says why."""


@dataclass(frozen=True)
class RewrittenInstance:
    data: bytes
    original_sop_instance_uid: str
    sop_instance_uid: str


@dataclass
class _Context:
    plan: ElementPlan
    session: MappingSession
    patient: PatientIdentity


Handler = Callable[[Dataset, BaseTag, str, _Context], None]


def rewrite_instance(data: bytes, plan: ElementPlan, session: MappingSession) -> RewrittenInstance:
    """Anonymize one encoded instance and return the new encoding."""
    try:
        dataset = dcmread(BytesIO(data), force=True)
        original_sop = str(dataset.get("SOPInstanceUID", ""))
        original_patient_id = str(dataset.get("PatientID", ""))
    except (InvalidDicomError, ValueError, EOFError, OSError) as error:
        raise InstanceRewriteError(f"cannot parse DICOM: {error}") from error
    if not original_sop:
        raise InstanceRewriteError("the instance has no SOPInstanceUID")

    context = _Context(plan=plan, session=session, patient=session.patient(original_patient_id))
    try:
        walk(dataset, context)
        insert_replaced_values(dataset, context)
        set_patient_identity(dataset, plan, context.patient)
        mark_deidentified(dataset, plan)
        sync_file_meta(dataset)
        encoded = encode(dataset)
    except InstanceRewriteError:
        raise
    except Exception as error:  # pydicom raises many types on malformed values
        raise InstanceRewriteError(f"{type(error).__name__}: {error}") from error
    return RewrittenInstance(encoded, original_sop, str(dataset.SOPInstanceUID))


def pin_uid_overrides(data: bytes, plan: ElementPlan, session: MappingSession) -> None:
    """Register Keep/Replace of UI attributes of one instance so they apply at every depth.

    Must run over every instance of a call before any is rewritten: another
    instance may reference the pinned value before the one that carries it.
    """
    options = plan.options
    try:
        dataset = dcmread(BytesIO(data), force=True, stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError, OSError) as error:
        raise InstanceRewriteError(f"cannot parse DICOM: {error}") from error
    for tag in options.uid_overrides:
        if tag not in dataset:
            continue
        for original in _uid_values(dataset[tag].value):
            session.pin(original, options.replace.get(tag, original))


def walk(dataset: Dataset, context: _Context) -> None:
    """Apply the plan to every element of ``dataset``, recursing into sequences."""
    elements = dataset._dict
    plan = context.plan
    for tag in list(elements):
        vr = _vr_of(tag, elements[tag].VR)
        action = plan.action(tag, vr)
        if action is not Action.KEEP:
            _HANDLERS[action](dataset, tag, vr, context)


def insert_replaced_values(dataset: Dataset, context: _Context) -> None:
    """As in Orthanc, ``Replace`` also sets a top-level attribute that was absent.

    UI attributes are the exception: replacing a FrameOfReferenceUID must not
    give one to an instance that had none.
    """
    for tag in context.plan.options.replace:
        vr = _dictionary_vr(tag)
        if tag not in dataset and vr != "UI":
            _replace(dataset, tag, vr.split(" or ")[0], context)


def set_patient_identity(dataset: Dataset, plan: ElementPlan, patient: PatientIdentity) -> None:
    """The default PatientID and PatientName are the project's pseudonym."""
    options = plan.options
    for tag in (PATIENT_ID, PATIENT_NAME):
        if tag not in options.replace and tag not in options.keep and tag not in options.remove:
            dataset[tag] = DataElement(tag, "LO" if tag == PATIENT_ID else "PN", patient.pseudonym)


def mark_deidentified(dataset: Dataset, plan: ElementPlan) -> None:
    """Record what was done (PS3.15 E.1.1 and PS3.3 C.7.1.1)."""
    options = plan.options
    dataset.PatientIdentityRemoved = "YES"
    method = f"anon-consistent {__version__}: PS3.15 {plan.profile.edition} Table E.1-1 Basic Profile"
    details = options.describe()
    dataset.DeidentificationMethod = f"{method}; {details}"[:64] if details else method[:64]
    used = ["basic"] + (["shift_dates"] if options.shift_dates else [])
    codes = Sequence()
    for key in used:
        value, meaning = DEIDENTIFICATION_CODES[key]
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        codes.append(item)
    dataset.DeidentificationMethodCodeSequence = codes
    if options.shift_dates:
        dataset.LongitudinalTemporalInformationModified = "MODIFIED"


def sync_file_meta(dataset: Dataset) -> None:
    """Keep the file meta consistent with the rewritten dataset."""
    meta: FileMetaDataset = dataset.file_meta if "file_meta" in dataset.__dict__ else FileMetaDataset()
    dataset.file_meta = meta
    if "TransferSyntaxUID" not in meta:
        # A file without meta (as some senders produce) is written as a proper
        # Part 10 file in the encoding it was read with.
        implicit, little = dataset.original_encoding
        meta.TransferSyntaxUID = UID(_TRANSFER_SYNTAX_FOR_ENCODING[(bool(implicit), bool(little))])
    for tag in _META_TO_DROP:
        meta.pop(tag, None)
    meta.pop(Tag(0x0002, 0x0000), None)
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    if "SOPClassUID" in dataset:
        meta.MediaStorageSOPClassUID = dataset.SOPClassUID


@lru_cache(maxsize=4096)
def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"


def _vr_of(tag: BaseTag, raw_vr: str | None) -> str:
    if raw_vr is None or raw_vr == "UN":
        return _dictionary_vr(tag) if not tag.is_private else (raw_vr or "UN")
    return raw_vr


def _uid_values(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _remove(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    del dataset._dict[tag]


def _empty(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    dataset[tag] = DataElement(tag, vr, Sequence() if vr == "SQ" else None)


def _dummy(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    dataset[tag] = DataElement(tag, vr, _DUMMY_BY_VR.get(vr, _DUMMY_TEXT))


def _replace(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    text = context.plan.options.replace[tag]
    value: object = text
    if vr in _BINARY_NUMBER_VRS and text:
        # Options validated these as numbers; binary VRs need them as such.
        numbers = [_BINARY_NUMBER_VRS[vr](part) for part in text.split("\\")]
        value = numbers[0] if len(numbers) == 1 else numbers
    dataset[tag] = DataElement(tag, vr, value)


def _remap_uid(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    if keeps_uid_attribute(tag):
        return
    element = dataset[tag]
    values = _uid_values(element.value)
    if not values:
        return
    session = context.session
    new = [v if v == "" or is_registry_uid(v) else session.uid(v) for v in values]
    element.value = new[0] if len(new) == 1 else new


def _shift_date(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    element = dataset[tag]
    if not element.value:
        return
    shift = shift_da if vr == "DA" else shift_dt
    days = context.patient.date_offset_days
    values = [element.value] if isinstance(element.value, str) else list(element.value)
    shifted = [shift(str(v), days) for v in values]
    element.value = shifted[0] if len(shifted) == 1 else shifted


def _recurse(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    for item in dataset[tag].value or ():
        walk(item, context)


def _scan_private(dataset: Dataset, tag: BaseTag, vr: str, context: _Context) -> None:
    """A kept private element whose whole value is a UID gets the mapped UID."""
    raw = dataset._dict[tag].value
    if not isinstance(raw, (bytes, str)) or len(raw) > 64 + 2:
        return
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    candidate = text.rstrip("\x00 ")
    if candidate.count(".") >= 3 and is_valid_uid(candidate) and not is_registry_uid(candidate):
        new = context.session.uid(candidate)
        dataset[tag] = DataElement(tag, "UI" if vr == "UN" else vr, new)


_HANDLERS: dict[Action, Handler] = {
    Action.REMOVE: _remove,
    Action.EMPTY: _empty,
    Action.DUMMY: _dummy,
    Action.REPLACE: _replace,
    Action.REMAP_UID: _remap_uid,
    Action.SHIFT_DATE: _shift_date,
    Action.RECURSE: _recurse,
    Action.SCAN_PRIVATE: _scan_private,
}
