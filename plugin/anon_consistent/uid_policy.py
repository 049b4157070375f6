"""Which UI values are instance identifiers (remapped) and which are kept.

The rule is deliberately "remap unless known safe": any UI value is given a
new UID unless it is a value from the DICOM registry (1.2.840.10008.*) or it
sits in an attribute that names a class, a syntax, a coding scheme or an
implementation rather than an instance. A false positive (remapping a class
UID) breaks a file visibly; a false negative leaks an identifier silently.
"""

from __future__ import annotations

from pydicom.tag import BaseTag, Tag

DICOM_REGISTRY_ROOT = "1.2.840.10008."

_CLASS_LIKE_KEYWORDS = (
    # SOP classes, wherever they are referenced.
    "AffectedSOPClassUID",
    "RequestedSOPClassUID",
    "MediaStorageSOPClassUID",
    "SOPClassUID",
    "ReferencedSOPClassUID",
    "ReferencedSOPClassUIDInFile",
    "RelatedGeneralSOPClassUID",
    "OriginalSpecializedSOPClassUID",
    "ReferencedRelatedGeneralSOPClassUIDInFile",
    "SOPClassesInStudy",
    # Encodings.
    "TransferSyntaxUID",
    "ReferencedTransferSyntaxUIDInFile",
    "EncryptedContentTransferSyntaxUID",
    "MACCalculationTransferSyntaxUID",
    # Implementations and coding schemes identify software and terminologies,
    # never a patient. (Template extension organisation/creator UIDs are U in
    # PS3.15 and so are remapped; a unit test keeps this list and the table apart.)
    "ImplementationClassUID",
    "PrivateInformationCreatorUID",
    "CodingSchemeUID",
    "ContextGroupExtensionCreatorUID",
    "MappingResourceUID",
)


def _tags_for(keywords: tuple[str, ...]) -> frozenset[BaseTag]:
    return frozenset(Tag(keyword) for keyword in keywords)


CLASS_LIKE_UID_TAGS: frozenset[BaseTag] = _tags_for(_CLASS_LIKE_KEYWORDS)


def is_registry_uid(value: str) -> bool:
    """True for well-known UIDs of the DICOM registry (PS3.6 annex A)."""
    return value.startswith(DICOM_REGISTRY_ROOT)


def keeps_uid_attribute(tag: BaseTag) -> bool:
    """True when every value of this UI attribute is kept unchanged."""
    return tag in CLASS_LIKE_UID_TAGS
