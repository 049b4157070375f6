"""Rewrites one DICOM instance: parse, walk, pseudonymize, mark, serialize.

Each step is a small function over the parsed dataset; the per-element work
is in ``handlers``, the decisions in ``plan``.
"""

from __future__ import annotations

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

from . import __version__
from .character_sets import declared_character_set, unwritable_problem
from .descriptors import identifiers_of
from .encoder import encode
from .errors import ElementError, InstanceRewriteError, describe_unexpected, element_name
from .handlers import WalkContext, replacement_value, uid_values, walk
from .integrity import explained, read_checked
from .path_edits import apply_paths, capture
from .plan import ElementPlan
from .ps315_options import BASIC_PROFILE_CODE, PROFILE_OPTIONS
from .roi_names import keep_names_distinct, original_names
from .session import MappingSession, PinConflictError
from .vr import element_vr

# The file is written by us, so PS3.10 wants our implementation's identity in
# the meta, not the original writer's (which can equal an InstanceCreatorUID).
IMPLEMENTATION_CLASS_UID = "2.25.12172323154350808376137170144592877644"
IMPLEMENTATION_VERSION_NAME = ("ANONCONS_" + __version__.replace(".", "_"))[:16]
# DCMTK's generic "unknown" storage class: what Orthanc writes in the meta of a
# file with no SOPClassUID (such as /tools/create-dicom makes), as we do.
GENERIC_MEDIA_STORAGE_CLASS_UID = "1.2.276.0.7230010.3.1.0.1"

PATIENT_ID = Tag("PatientID")
SOP_INSTANCE_UID = Tag("SOPInstanceUID")
SOP_CLASS_UID = Tag("SOPClassUID")
PATIENT_NAME = Tag("PatientName")


_TRANSFER_SYNTAX_FOR_ENCODING = {
    (True, True): "1.2.840.10008.1.2",
    (False, True): "1.2.840.10008.1.2.1",
    (False, False): "1.2.840.10008.1.2.2",
}

LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED = Tag("LongitudinalTemporalInformationModified")


def rewrite_instance(data: bytes, plan: ElementPlan, session: MappingSession) -> bytes:
    """Anonymize one encoded instance and return the new encoding.

    ``InstanceRewriteError`` says why an instance cannot be: damaged data
    (an element longer than what is left), or the element that failed.
    """
    dataset = read_checked(data)
    try:
        original_sop = str(_top_level_value(dataset, SOP_INSTANCE_UID))
        original_patient_id = str(_top_level_value(dataset, PATIENT_ID))
        # Choices of the table depend on the attributes' Types in this class's IOD.
        plan = plan.for_sop_class(str(_top_level_value(dataset, SOP_CLASS_UID)))
    except ElementError as error:
        raise explained(data, error) from error
    if not original_sop:
        raise InstanceRewriteError("the instance has no SOPInstanceUID")

    context = WalkContext(plan=plan, session=session, patient_id=original_patient_id)
    try:
        roi_names = None
        context.character_set = declared_character_set(dataset) or ()
        if plan.cleans_text:
            # Before the walk changes them; Full Dates keeps dates in descriptors too.
            context.identifiers = identifiers_of(dataset, keep_dates=plan.options.full_dates)
            roi_names = original_names(dataset)
        # Sequence paths in Keep leave their places as read: copied before the walk, put back after it.
        options = plan.options
        kept = capture(dataset, options.keep_paths) if options.keep_paths else []
        walk(dataset, context)
        if roi_names:
            keep_names_distinct(dataset, roi_names)
        insert_replaced_values(dataset, context)
        if kept or options.remove_paths or options.replace_paths:
            apply_paths(dataset, kept, options, context.character_set)
        set_patient_identity(dataset, plan, session.pseudonym(original_patient_id))
        mark_deidentified(dataset, plan)
        sync_file_meta(dataset)
        encoded = encode(dataset)
    except Exception as error:  # pydicom raises many types on malformed values
        # Damage found by scanning the file is the root cause if there is any.
        raise explained(data, error if isinstance(error, InstanceRewriteError) else _unexpected(error)) from error
    return encoded


def _top_level_value(dataset: Dataset, tag: BaseTag) -> object:
    """The value of a top-level attribute ("" if absent); ``ElementError`` names it if unreadable."""
    try:
        return dataset[tag].value if tag in dataset else ""
    except Exception as error:  # pydicom raises many types on malformed values
        raise ElementError(element_name(tag), f"cannot be read ({type(error).__name__})") from error


def _unexpected(error: Exception) -> InstanceRewriteError:
    return InstanceRewriteError(describe_unexpected(error))


def pin_uid_overrides(data: bytes, plan: ElementPlan, session: MappingSession) -> None:
    """Register Keep/Replace of UI attributes of one instance so they apply at every depth.

    Values are collected wherever the attribute occurs, nested ones included:
    an RTSTRUCT carries its FrameOfReferenceUID only inside sequences. This
    must run over every instance of a call before any is rewritten: another
    instance may reference the pinned value before the one that carries it.
    """
    options = plan.options
    dataset = read_checked(data, stop_before_pixels=True)
    try:
        for element in dataset.iterall():
            if element.tag in options.uid_overrides:
                for original in uid_values(element.value):
                    try:
                        session.pin(original, options.replace.get(element.tag, original))
                    except PinConflictError as conflict:
                        raise PinConflictError(f"{element_name(element.tag)}: {conflict}") from None
    except PinConflictError:
        raise
    except Exception as error:  # pydicom raises many types on malformed values
        raise explained(data, _unexpected(error)) from error


def insert_replaced_values(dataset: Dataset, context: WalkContext) -> None:
    """As in Orthanc, ``Replace`` also sets a top-level attribute that was absent.

    UI attributes are the exception: replacing a FrameOfReferenceUID must not
    give one to an instance that had none.
    """
    for tag, text in context.plan.options.replace.items():
        vr = element_vr(tag, None)
        if tag not in dataset and vr != "UI":
            problem = unwritable_problem(vr, text, context.character_set)
            if problem:
                raise ElementError(element_name(tag), problem)
            dataset[tag] = DataElement(tag, vr, replacement_value(vr, text))


def set_patient_identity(dataset: Dataset, plan: ElementPlan, pseudonym: str) -> None:
    """The default PatientID and PatientName are the project's pseudonym."""
    options = plan.options
    for tag in (PATIENT_ID, PATIENT_NAME):
        if tag not in options.replace and tag not in options.keep and tag not in options.remove:
            dataset[tag] = DataElement(tag, "LO" if tag == PATIENT_ID else "PN", pseudonym)


def mark_deidentified(dataset: Dataset, plan: ElementPlan) -> None:
    """Record what was done (PS3.15 E.1.1 and E.3, PS3.3 C.7.1.1).

    DeidentificationMethod is LO with VM 1-n: the profile and its edition,
    the implementation, then one value per option and per Keep/Replace/Remove
    summary, each within LO's 64 characters, so nothing is cut away.
    """
    options = plan.options
    dataset.PatientIdentityRemoved = "YES"
    method = [
        f"PS3.15 {plan.profile.edition} {BASIC_PROFILE_CODE[1]}",
        f"anon-consistent {__version__}",
        *options.describe(),
    ]
    dataset.DeidentificationMethod = method[0] if len(method) == 1 else method
    codes = [BASIC_PROFILE_CODE] + [(o.code, o.meaning) for o in PROFILE_OPTIONS if o.name in options.profile_options]
    items = Sequence()
    for value, meaning in codes:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    dataset.DeidentificationMethodCodeSequence = items
    if options.shift_dates:
        dataset.LongitudinalTemporalInformationModified = "MODIFIED"
    elif options.full_dates:
        dataset.LongitudinalTemporalInformationModified = "UNMODIFIED"
    elif LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED in dataset:
        # The source's own statement (say UNMODIFIED) is no longer true.
        del dataset[LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED]


def sync_file_meta(dataset: Dataset) -> None:
    """Rebuild the file meta from an allow-list, consistent with the rewritten dataset.

    Anything else in group 0002 (sending and receiving AE titles and network
    addresses, private information) names the source systems; the preamble
    may carry anything, so it is zeroed.
    """
    old: FileMetaDataset = dataset.file_meta if "file_meta" in dataset.__dict__ else FileMetaDataset()
    syntax = old.get("TransferSyntaxUID")
    if syntax is None:
        # A file without meta (as some senders produce) is written as a proper
        # Part 10 file in the encoding it was read with.
        implicit, little = dataset.original_encoding
        syntax = UID(_TRANSFER_SYNTAX_FOR_ENCODING[(bool(implicit), bool(little))])
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = media_storage_class(dataset, old)
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    dataset.file_meta = meta
    dataset.preamble = b"\x00" * 128


def media_storage_class(dataset: Dataset, old_meta: FileMetaDataset) -> UID:
    """The class for the meta: the dataset's, else the source meta's, else the generic one.

    PS3.10 requires the element, so a dataset without SOPClassUID still gets
    one in its meta, as native anonymization does; the dataset itself is left
    without one (inventing a class would misstate what the object is).
    """
    for source in (dataset.get("SOPClassUID"), old_meta.get("MediaStorageSOPClassUID")):
        text = str(source or "").strip(" \x00")
        if text:
            return UID(text)
    return UID(GENERIC_MEDIA_STORAGE_CLASS_UID)
