"""OrthancGateway implemented with the plugin SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from ..results import Level, StoredInstance
from ..service import ResourceNotFound, StoreError

_CHILDREN = {Level.PATIENT: "Studies", Level.STUDY: "Series", Level.SERIES: "Instances"}
PARENT_KEY = {Level.INSTANCE: "ParentSeries", Level.SERIES: "ParentStudy", Level.STUDY: "ParentPatient"}
# The reason given for an instance listed at the start of a call and gone when it is read.
GONE = "Orthanc no longer has this instance or its file (deleted during the call?)"
_CHILD_LEVEL = {Level.PATIENT: Level.STUDY, Level.STUDY: Level.SERIES, Level.SERIES: Level.INSTANCE}


def stored_instance(answer: dict[str, Any]) -> StoredInstance:
    """The answer of POST /instances."""
    parents: dict[str, str] = {
        key: answer[key] for key in ("ParentPatient", "ParentStudy", "ParentSeries") if key in answer
    }
    return StoredInstance(id=answer["ID"], status=answer.get("Status", "Success"), parents=parents)


class SdkGateway:
    def __init__(self, orthanc: Any) -> None:
        self._orthanc = orthanc

    @contextmanager
    def for_call(self) -> Iterator[SdkGateway]:
        """The gateway one call uses; the SDK needs no HTTP thread, so always this one."""
        yield self

    def yield_http_threads(self) -> None:
        """Calls are waiting while holding HTTP threads; the SDK needs none, so nothing to do."""

    def synchronous_call(self) -> AbstractContextManager[None]:
        """A call that holds an HTTP thread; only loopback needs to count them."""
        return nullcontext()

    def _get(self, uri: str) -> Any:
        try:
            return json.loads(self._orthanc.RestApiGet(uri))
        except self._orthanc.OrthancException as error:
            raise ResourceNotFound(uri) from error

    def instances_of(self, level: Level, resource_id: str) -> list[str]:
        resource = self._get(f"/{level.plural}/{resource_id}")
        if level is Level.INSTANCE:
            return [resource_id]
        child = _CHILD_LEVEL[level]
        found: list[str] = []
        for child_id in resource[_CHILDREN[level]]:
            found.extend(self.instances_of(child, child_id) if child is not Level.INSTANCE else [child_id])
        return found

    def read_instance(self, instance_id: str) -> bytes:
        try:
            data: bytes = self._orthanc.GetDicomForInstance(instance_id)
        except self._orthanc.OrthancException:
            raise ResourceNotFound(GONE) from None
        return data

    def store_instance(self, data: bytes) -> StoredInstance:
        try:
            answer = json.loads(self._orthanc.RestApiPost("/instances", data))
        except self._orthanc.OrthancException as error:
            raise StoreError(f"Orthanc refused the anonymized instance: {error}") from error
        return stored_instance(answer)

    def delete_instance(self, instance_id: str) -> None:
        try:
            self._orthanc.RestApiDelete(f"/instances/{instance_id}")
        except self._orthanc.OrthancException:
            # Already gone (for example deleted by a concurrent call): nothing to do.
            pass

    def stored_md5(self, instance_id: str) -> str | None:
        try:
            answer = self._orthanc.RestApiGet(f"/instances/{instance_id}/attachments/dicom/md5")
        except self._orthanc.OrthancException:
            return None  # "StoreMD5ForAttachments": false
        text = answer.decode("ascii", "replace") if isinstance(answer, bytes) else str(answer)
        return text.strip().strip('"') or None

    def parent(self, level: Level, resource_id: str) -> str:
        try:
            return str(self._get(f"/{level.plural}/{resource_id}")[PARENT_KEY[level]])
        except ResourceNotFound:
            raise ResourceNotFound(GONE) from None

    def exists(self, level: Level, resource_id: str) -> bool:
        try:
            self._orthanc.RestApiGet(f"/{level.plural}/{resource_id}")
        except self._orthanc.OrthancException:
            return False
        return True

    def resource_level(self, resource_id: str) -> Level:
        """The level of an Orthanc ID, whatever it is (bulk calls mix levels)."""
        for level in (Level.INSTANCE, Level.SERIES, Level.STUDY, Level.PATIENT):
            if self.exists(level, resource_id):
                return level
        raise ResourceNotFound(resource_id)

    def metadata(self, level: Level, resource_id: str, index: int) -> str | None:
        try:
            answer = self._orthanc.RestApiGet(f"/{level.plural}/{resource_id}/metadata/{index}")
        except self._orthanc.OrthancException:
            return None  # no such metadata (or no such resource)
        return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)

    def set_metadata(self, level: Level, resource_id: str, index: int, value: str) -> None:
        self._orthanc.RestApiPut(f"/{level.plural}/{resource_id}/metadata/{index}", value)
