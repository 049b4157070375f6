"""The ``Replace`` option: which tags (or sequence paths) get which values, checked before any instance is read."""

from __future__ import annotations

from pydicom.tag import BaseTag

from .errors import element_name
from .tag_paths import TagPath, parse_option_reference, path_name
from .tag_syntax import OptionsError, show
from .vr import dictionary_vm, dictionary_vr
from .vr_values import supported, value_problem


def parse_replace(value: object) -> tuple[dict[BaseTag, str], dict[TagPath, str]]:
    """Plain tags and sequence paths with their new values; a value that cannot fit is a 400, not a failed instance."""
    if not isinstance(value, dict):
        raise OptionsError('"Replace" must be an object mapping tags to string values')
    replace: dict[BaseTag, str] = {}
    paths: dict[TagPath, str] = {}
    for key, new_value in value.items():
        target = parse_option_reference(key, "Replace")
        label = path_name(target) if isinstance(target, TagPath) else element_name(target)
        if target in replace or target in paths:
            raise OptionsError(f'"Replace" names {label} twice')
        if not isinstance(new_value, str):
            raise OptionsError(f'"Replace" value for {label} must be a string')
        if isinstance(target, TagPath):
            check_value_fits(target.final, new_value, f"{element_name(target.final)} (in {label})")
            paths[target] = new_value
        else:
            check_value_fits(target, new_value)
            replace[target] = new_value
    return replace, paths


def check_value_fits(tag: BaseTag, value: str, label: str | None = None) -> None:
    """A value that cannot be encoded in the tag's VR is the caller's mistake (400), not a failed instance."""
    label = label or element_name(tag)
    if tag.group == 0x0002:
        raise OptionsError(f'"Replace" cannot change the file meta attribute {label}')
    if tag.group in (0x0000, 0xFFFE):
        raise OptionsError(f'"Replace" cannot set {label}: it is not an attribute of a data set')
    if tag.is_private:
        raise OptionsError(f'"Replace" cannot set the private attribute {label}: its VR is unknown')
    vr = dictionary_vr(int(tag))
    if vr == "SQ":
        raise OptionsError(f'"Replace" cannot set the sequence {label}')
    if vr == "UN":
        raise OptionsError(f'"Replace" cannot set {label}: it is not in the DICOM dictionary, so its VR is unknown')
    if not supported(vr):
        raise OptionsError(f'"Replace" cannot set the binary attribute {label} (VR {vr})')
    problem = value_problem(vr, dictionary_vm(int(tag)), value)
    if problem:
        raise OptionsError(f'"Replace" value for {label} {problem}: {show(value)}')
